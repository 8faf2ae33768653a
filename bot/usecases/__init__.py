"""Application services, one module per use-case family. They depend only on the domain and the ports
(ports.py): a unit of work and its stores, Slack, the message catalogue and a clock. Never on Bolt,
slack-sdk, aiohttp, SQLAlchemy, storage or the entry points, not even for a type (tests/architecture)."""
