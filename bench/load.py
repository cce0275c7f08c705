"""A bounded load generator: N Fig webhooks from C concurrent senders, to loopback only."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiohttp

from local.run import sample_event


@dataclass(frozen=True)
class LoadResult:
    """What one load run measured."""

    events: int
    seconds: float
    latencies: list[float]
    statuses: dict[int, int]

    @property
    def rate(self) -> float:
        return self.events / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies) * 1000

    @property
    def p99_ms(self) -> float:
        return self.percentile(0.99) * 1000


def security_event(index: int) -> bytes:
    """A distinct failed login (distinct user and time, so distinct EventIds)."""
    moment = datetime.now(UTC) - timedelta(milliseconds=index)
    return json.dumps(sample_event(moment, username=f"user{index}")).encode()


async def _run(
    url: str, secret: str, events: int, senders: int, request_seconds: float
) -> LoadResult:
    # Bodies are made before the clock starts: the generator measures the bridge, not itself.
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for index in range(events):
        queue.put_nowait(security_event(index))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    headers = {"Authorization": f"Secret {secret}", "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=senders)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=request_seconds)
    ) as session:

        async def sender() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                started = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    statuses[resp.status] = statuses.get(resp.status, 0) + 1
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(senders)))
        elapsed = time.perf_counter() - started
    return LoadResult(events, elapsed, latencies, statuses)


def run_load(
    url: str, secret: str, *, events: int, senders: int, timeout: float = 60
) -> LoadResult:
    """Send ``events`` webhooks from ``senders`` concurrent senders; a bounded run."""
    return asyncio.run(_run(url, secret, events, senders, timeout))
