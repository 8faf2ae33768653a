"""What Slack and the outside world call: the slash command, actions, modal submissions, events, the
HTTP routes, the timer tick, and the parsers and readers that turn their input into typed requests."""
