"""`make bench`: every benchmark, figures beside their baselines, in one run.

BENCH_EVENTS and BENCH_SENDERS scale the intake load (defaults: 5,000 events, 32 senders,
as the foundation issue names); BENCH_BASELINE_EVENTS the naive relay's share (500);
BENCH_DRAIN_EVENTS the events queued during the outage of the drain benchmark (10,000);
BENCH_WORKSPACES, BENCH_SUBSCRIPTIONS, BENCH_WORKSPACE_INCIDENTS and BENCH_ARM_LATENCY_MS
the many-workspace poll (50, 10, 10, 100 ms: ``bench/workspaces.py``).
"""

from __future__ import annotations

import logging
import os
import platform
import sys
from collections.abc import Callable

from bench.batches import bench_big_batches
from bench.delivery import bench_coalescing, bench_drain, bench_packing
from bench.flood import bench_flood
from bench.incidents import bench_incidents
from bench.intake import bench_cold_start, bench_intake
from bench.sources import bench_wallarm
from bench.two_hosts import bench_two_hosts
from bench.workspaces import bench_workspaces


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    events = int(os.environ.get("BENCH_EVENTS", "5000"))
    senders = int(os.environ.get("BENCH_SENDERS", "32"))
    baseline_events = int(os.environ.get("BENCH_BASELINE_EVENTS", "500"))
    print(
        f"sentinel-bridge benchmarks on {platform.node()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}\n",
        flush=True,
    )
    drain_events = int(os.environ.get("BENCH_DRAIN_EVENTS", "10000"))
    sections: tuple[Callable[[], list[str]], ...] = (
        lambda: bench_intake(events=events, senders=senders, baseline_events=baseline_events),
        bench_cold_start,
        lambda: bench_coalescing(events=events, senders=senders),
        bench_packing,
        lambda: bench_drain(events=drain_events, senders=senders),
        bench_wallarm,
        bench_big_batches,
        bench_flood,
        bench_incidents,
        bench_workspaces,
        lambda: bench_two_hosts(events=events, concurrency=senders),
    )
    for section in sections:
        print("\n".join(section()) + "\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
