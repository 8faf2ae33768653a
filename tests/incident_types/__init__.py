"""Incident types and their custom fields."""
