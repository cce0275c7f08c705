"""A bounded load generator: N Fig webhooks from C concurrent senders, to loopback only.

It runs in a process of its own (``python -m bench.load``), as real senders would: in the
benchmark's process it would share an interpreter lock with the emulators, and every
upload the bridge makes would wait for the generator's event loop. It still shares the
machine's cores with everything else. Bodies are made before the clock starts, so the
generator measures the bridge, not itself.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from local.run import sample_event

REPO_ROOT = Path(__file__).resolve().parent.parent
SECRET_ENV = "BENCH_LOAD_SECRET"  # the secret reaches the child by environment, not argv


@dataclass(frozen=True)
class LoadResult:
    """What one load run measured (for one host, when the load was split)."""

    events: int
    seconds: float
    latencies: list[float]
    statuses: dict[int, int]
    idle: float = float("nan")  # the machine's idle share of CPU time over the run
    generator_cpu: float = float("nan")  # the generator's own CPU seconds over the run

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


def _cpu_ticks() -> tuple[int, int]:
    """(all, idle) CPU ticks of the whole machine since boot; (0, 0) without /proc/stat."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(tick) for tick in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    return sum(fields), fields[3] + fields[4]  # idle + iowait


def security_event(index: int) -> bytes:
    """A distinct failed login (distinct user and time, so distinct EventIds)."""
    moment = datetime.now(UTC) - timedelta(milliseconds=index)
    return json.dumps(sample_event(moment, username=f"user{index}")).encode()


async def split_load(
    urls: list[str], secret: str, events: int, senders: int, request_seconds: float
) -> list[LoadResult]:
    """One queue of events and ``senders`` senders, each bound to one URL in turn, the way
    a balancer spreads connections: a faster host serves more, and none idles while
    another finishes. Each URL's result covers the whole run's time, so rates add up."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for index in range(events):
        queue.put_nowait(security_event(index))
    latencies: list[list[float]] = [[] for _ in urls]
    statuses: list[dict[int, int]] = [{} for _ in urls]
    headers = {"Authorization": f"Secret {secret}", "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=senders)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=request_seconds)
    ) as session:

        async def sender(target: int) -> None:
            while not queue.empty():
                body = queue.get_nowait()
                began = time.perf_counter()
                async with session.post(urls[target], data=body, headers=headers) as response:
                    await response.read()
                    counts = statuses[target]
                    counts[response.status] = counts.get(response.status, 0) + 1
                latencies[target].append(time.perf_counter() - began)

        ticks_before, cpu_before = _cpu_ticks(), time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(sender(i % len(urls)) for i in range(senders)))
        elapsed = time.perf_counter() - started
        ticks_after, cpu = _cpu_ticks(), time.process_time() - cpu_before
    ticks = ticks_after[0] - ticks_before[0]
    idle = (ticks_after[1] - ticks_before[1]) / ticks if ticks else float("nan")
    return [
        LoadResult(len(latencies[i]), elapsed, latencies[i], statuses[i], idle, cpu)
        for i in range(len(urls))
    ]


def run_split(
    urls: list[str], secret: str, *, events: int, senders: int, timeout: float = 60
) -> list[LoadResult]:
    """``split_load`` in a process of its own; one result per URL (a bounded run)."""
    plan = {"urls": urls, "events": events, "senders": senders, "timeout": timeout}
    completed = subprocess.run(  # this interpreter, this module, a JSON plan
        [sys.executable, "-m", "bench.load", json.dumps(plan)],
        cwd=REPO_ROOT,
        env={**os.environ, SECRET_ENV: secret},
        capture_output=True,
        check=True,
        timeout=timeout + 120,
    )
    return [
        LoadResult(
            r["events"],
            r["seconds"],
            r["latencies"],
            {int(k): v for k, v in r["statuses"].items()},
            r["idle"],
            r["generator_cpu"],
        )
        for r in json.loads(completed.stdout)
    ]


def run_load(
    url: str, secret: str, *, events: int, senders: int, timeout: float = 60
) -> LoadResult:
    """Send ``events`` webhooks from ``senders`` concurrent senders to one URL."""
    return run_split([url], secret, events=events, senders=senders, timeout=timeout)[0]


def main(argv: list[str]) -> int:
    """``python -m bench.load '<plan JSON>'``, the secret in BENCH_LOAD_SECRET: prints
    one result per URL as JSON."""
    plan = json.loads(argv[0])
    results = asyncio.run(
        split_load(
            plan["urls"], os.environ[SECRET_ENV], plan["events"], plan["senders"], plan["timeout"]
        )
    )
    print(json.dumps([asdict(result) for result in results]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
