"""The Slack double in a process of its own (for benchmarks): `python -m tests.bench.double_server N`
creates N incident channels and 50 users, prints {"api_url", "channels", "users"} as one JSON line, and
serves until its standard input closes."""

from __future__ import annotations

import asyncio
import json
import sys

from tests.slack_double import SlackDouble


async def serve(channels: int) -> None:
    double = await SlackDouble().start()
    users = [double.add_user(f"U{n:07d}", f"user{n}") for n in range(50)]
    ids = [double.add_channel(f"inc-{n}", members=set(users[:2]), bot_member=True).id for n in range(channels)]
    print(json.dumps({"api_url": double.api_url, "channels": ids, "users": users}), flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the benchmark closes our stdin
    await double.stop()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
