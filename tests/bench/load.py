"""Load generator run as its own process, so its timing is not delayed by the double's event loop.

Reads {"url", "secret", "payloads": [form dicts]} as JSON on stdin, POSTs every payload at once (signed
as Slack signs), prints the ack latencies in milliseconds as a JSON list.

With {"url", "token", "bodies": [JSON bodies], "concurrency": N} instead (an alert sender such as
Alertmanager), it POSTs the bodies as JSON with at most N in flight and prints
{"latencies": [ms], "seconds": wall time of the whole run, "answered": {alert group name: when its webhook
was answered, on the machine's monotonic clock (the same in every process)}}.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import sys
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp


async def post_all(url: str, secret: str, payloads: list[dict[str, str]]) -> list[float]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        # Open the connections first: Slack keeps connections warm too, and connect time is not ack time.
        await asyncio.gather(*(session.get(url.replace("/slack/events", "/healthz")) for _ in payloads))

        async def one(payload: dict[str, str]) -> float:
            body = urlencode(payload)
            stamp = str(int(time.time()))
            signature = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": f"v0={signature}",
            }
            started = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                assert response.status == 200, response.status
            return (time.perf_counter() - started) * 1000

        return await asyncio.gather(*(one(p) for p in payloads))


async def post_json(url: str, token: str, bodies: list[object], concurrency: int) -> dict[str, object]:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    queue: asyncio.Queue[object] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    answered: dict[str, float] = {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        health = url.split("/alerts/")[0] + "/livez"
        await asyncio.gather(*(session.get(health) for _ in range(concurrency)))

        async def sender() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                data = json.dumps(body).encode()
                started = time.perf_counter()
                async with session.post(url, data=data, headers=headers) as response:
                    await response.read()
                    assert response.status == 200, response.status
                latencies.append((time.perf_counter() - started) * 1000)
                if isinstance(body, dict) and isinstance(name := body.get("groupLabels", {}).get("alertname"), str):
                    answered[name] = time.monotonic()

        started = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(concurrency)))
        return {"latencies": latencies, "seconds": time.perf_counter() - started, "answered": answered}


def _post_share(job: dict[str, Any]) -> list[float]:
    return asyncio.run(post_all(job["url"], job["secret"], job["payloads"]))


if __name__ == "__main__":
    import multiprocessing

    job = json.load(sys.stdin)
    if "bodies" in job:
        print(json.dumps(asyncio.run(post_json(job["url"], job["token"], job["bodies"], job["concurrency"]))))
        sys.exit(0)
    senders = int(job.get("senders", 1))
    shares = [{**job, "payloads": job["payloads"][n::senders]} for n in range(senders)]
    with multiprocessing.Pool(senders) as pool:
        results = pool.map(_post_share, shares)
    print(json.dumps([ms for share in results for ms in share]))
