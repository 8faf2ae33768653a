"""Slack as Tocsin speaks it: the Web API gateway, ids, mrkdwn, charts and Block Kit builders."""
