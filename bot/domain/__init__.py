"""The incident domain, pure: records, rules and calculations. Imports only the standard library,
pydantic (policy models), PyYAML (the policy and runbook files), Jinja2 (the postmortem template),
anyascii (channel names) and itself."""
