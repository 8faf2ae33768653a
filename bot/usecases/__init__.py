"""Application services, one module per use-case family. They depend on the ports (ports.py): a unit of
work, the Slack gateway and a clock; never on Bolt, aiohttp or the entry points."""
