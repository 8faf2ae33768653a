"""Tocsin's storage: tables, sessions, the unit of work and migrations."""
