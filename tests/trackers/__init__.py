"""Tracker doubles (GitHub, GitLab, Jira, Linear) speaking each tracker's documented API, and the tests of
the adapters and of follow-ups synced with them."""
