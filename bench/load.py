"""A bounded load generator: N Fig webhooks from C concurrent senders, to loopback only.

The senders run in a process of their own (``python -m bench.load``), as real senders
would: in the benchmark's process they would share an interpreter lock with the
emulators. A load for several hosts is spread over one process per core
(``run_split(processes=...)``): in one process every host's answers queue behind one event
loop, and a burst of 100 answers costs it about 9 ms before the last sender's next webhook
leaves, a serial stage that hides what a second host adds. For one host one process is
kept: it is no bottleneck there (two measured the same within noise, docs/benchmarks.md).
The processes still share the machine's cores with everything else. Bodies are made
before the clock starts, so the generator measures the bridge, not itself.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from local.run import sample_event

REPO_ROOT = Path(__file__).resolve().parent.parent
SECRET_ENV = "BENCH_LOAD_SECRET"  # the secret reaches the child by environment, not argv
READY, GO = "ready", "go"  # the children's start barrier, over their stdout and stdin


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


@dataclass(frozen=True)
class ProcessRun:
    """One generator process's run: its span on the machine's monotonic clock (shared by
    every process on Linux), its CPU seconds, and per URL what it measured."""

    started: float
    ended: float
    cpu: float
    events: list[int]
    latencies: list[list[float]]
    statuses: list[dict[int, int]]


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


def shares(total: int, parts: int) -> list[int]:
    """``total`` split into ``parts`` near-equal whole shares, larger first."""
    return [total // parts + (1 if index < total % parts else 0) for index in range(parts)]


def merge(runs: Sequence[ProcessRun], idle: float) -> list[LoadResult]:
    """One result per URL over every process: the run spans the first start to the last
    end, so each URL's rate is its share of the whole run and the rates add up."""
    seconds = max(run.ended for run in runs) - min(run.started for run in runs)
    cpu = sum(run.cpu for run in runs)
    results = []
    for url in range(len(runs[0].events)):
        statuses: dict[int, int] = {}
        for run in runs:
            for status, count in run.statuses[url].items():
                statuses[status] = statuses.get(status, 0) + count
        results.append(
            LoadResult(
                sum(run.events[url] for run in runs),
                seconds,
                [latency for run in runs for latency in run.latencies[url]],
                statuses,
                idle,
                cpu,
            )
        )
    return results


async def split_load(
    urls: list[str], secret: str, first: int, events: int, senders: int, request_seconds: float
) -> ProcessRun:
    """One queue of events (numbered from ``first``) and ``senders`` senders, each bound
    to one URL in turn, the way a balancer spreads connections: a faster host serves more,
    and none idles while another finishes. Starts on the parent's go (see ``run_split``)."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for index in range(first, first + events):
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

        print(READY, flush=True)
        await asyncio.to_thread(sys.stdin.readline)  # the parent's go
        cpu_before, started = time.process_time(), time.monotonic()
        await asyncio.gather(*(sender(i % len(urls)) for i in range(senders)))
        ended, cpu = time.monotonic(), time.process_time() - cpu_before
    return ProcessRun(started, ended, cpu, [len(found) for found in latencies], latencies, statuses)


def run_split(
    urls: list[str],
    secret: str,
    *,
    events: int,
    senders: int,
    timeout: float = 60,
    processes: int = 1,
) -> list[LoadResult]:
    """``split_load`` in ``processes`` processes of its own (at most one per sender), the
    senders and events shared between them; one result per URL."""
    count = max(1, min(processes, senders))
    plans = []
    first = 0
    for share_of_events, share_of_senders in zip(
        shares(events, count), shares(senders, count), strict=True
    ):
        plans.append(
            {
                "urls": urls,
                "first": first,
                "events": share_of_events,
                "senders": share_of_senders,
                "timeout": timeout,
            }
        )
        first += share_of_events
    children = [
        subprocess.Popen(  # this interpreter, this module, a JSON plan
            [sys.executable, "-m", "bench.load", json.dumps(plan)],
            cwd=REPO_ROOT,
            env={**os.environ, SECRET_ENV: secret},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for plan in plans
    ]
    try:
        for child in children:  # every process has its bodies made and its session open
            assert child.stdout is not None
            if child.stdout.readline().strip() != READY:
                raise RuntimeError(f"load generator exited with {child.wait()} before its start")
        ticks_before = _cpu_ticks()
        for child in children:
            assert child.stdin is not None
            child.stdin.write(GO + "\n")
            child.stdin.flush()
        outputs = [child.communicate(timeout=timeout + 120)[0] for child in children]
        ticks_after = _cpu_ticks()
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    for child in children:
        if child.returncode != 0:
            raise RuntimeError(f"load generator exited with {child.returncode}")
    ticks = ticks_after[0] - ticks_before[0]
    idle = (ticks_after[1] - ticks_before[1]) / ticks if ticks else float("nan")
    runs = [_process_run(json.loads(output)) for output in outputs]
    return merge(runs, idle)


def _process_run(data: dict[str, Any]) -> ProcessRun:
    return ProcessRun(
        data["started"],
        data["ended"],
        data["cpu"],
        data["events"],
        data["latencies"],
        [{int(status): n for status, n in counts.items()} for counts in data["statuses"]],
    )


def run_load(
    url: str, secret: str, *, events: int, senders: int, timeout: float = 60
) -> LoadResult:
    """Send ``events`` webhooks from ``senders`` concurrent senders to one URL."""
    return run_split([url], secret, events=events, senders=senders, timeout=timeout)[0]


def main(argv: list[str]) -> int:
    """``python -m bench.load '<plan JSON>'``, the secret in BENCH_LOAD_SECRET: prints
    ``ready``, starts on a line from stdin, then prints its ``ProcessRun`` as JSON."""
    plan = json.loads(argv[0])
    run = asyncio.run(
        split_load(
            plan["urls"],
            os.environ[SECRET_ENV],
            plan["first"],
            plan["events"],
            plan["senders"],
            plan["timeout"],
        )
    )
    print(json.dumps(asdict(run)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
