"""Tocsin: a Slack bot that runs incidents."""
