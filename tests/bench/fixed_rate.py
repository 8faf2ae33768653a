"""A fixed-rate GET load generator, run as its own process (its timing is not the server's event loop's).

Reads {"url", "rate", "seconds", "connections"} as JSON on stdin, sends `rate` GETs a second for `seconds`
(accepting gzip, as browsers do)
(each at its own scheduled moment, whatever earlier ones are doing, with at most `connections` open), reads
every body, and prints {"latencies": [ms], "round_trips": [ms], "statuses": {status: count}, "late": n,
"seconds": wall time}. A latency counts from the moment the request was *due*, not when it was sent, so a
server that falls behind shows it (no coordinated omission); a round trip from when it was sent. `late`
counts requests sent more than 10 ms after they were due (this process was kept from the CPU).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter

import aiohttp


async def run(url: str, rate: float, seconds: float, connections: int) -> dict[str, object]:
    latencies: list[float] = []
    round_trips: list[float] = []
    statuses: Counter[int] = Counter()
    late = 0
    connector = aiohttp.TCPConnector(limit=connections)
    # Browsers and CDNs take gzip and decompress on their own machines: so does this client, unpacking none.
    headers = {"Accept-Encoding": "gzip"}
    async with aiohttp.ClientSession(connector=connector, headers=headers, auto_decompress=False) as session:
        await asyncio.gather(*(session.get(url) for _ in range(min(connections, 20))))  # warm connections

        async def one(due: float) -> None:
            nonlocal late
            sent = time.perf_counter()
            if sent - due > 0.010:
                late += 1
            async with session.get(url) as response:
                await response.read()
                statuses[response.status] += 1
            done = time.perf_counter()
            latencies.append((done - due) * 1000)
            round_trips.append((done - sent) * 1000)

        started = time.perf_counter()
        tasks = []
        total = int(rate * seconds)
        for n in range(total):
            due = started + n / rate
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            tasks.append(asyncio.create_task(one(due)))
        await asyncio.gather(*tasks)
        wall = time.perf_counter() - started
    return {
        "latencies": latencies,
        "round_trips": round_trips,
        "statuses": dict(statuses),
        "late": late,
        "seconds": wall,
    }


if __name__ == "__main__":
    job = json.load(sys.stdin)
    print(json.dumps(asyncio.run(run(job["url"], job["rate"], job["seconds"], job["connections"]))))
