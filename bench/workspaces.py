"""Many workspaces from one deployment: 50 Sentinel workspaces polled within one tick.

BENCH_WORKSPACES (50) workspaces are served by the Sentinel emulator, spread over
BENCH_SUBSCRIPTIONS (10) subscriptions, each seeded with BENCH_WORKSPACE_INCIDENTS (10)
incidents; every ARM call is made BENCH_ARM_LATENCY_MS (100) late, as a real ARM round
trip is. One timer tick (``poll_all``: the sources polled ``SOURCE_CONCURRENCY`` at a time)
forwards them all to the SIGNL4 stand-in and tags them; a second tick is idle. Figures:
seconds per tick against the 5-minute schedule, ARM reads and writes, and the fewest
``x-ms-ratelimit-remaining-subscription-reads`` any subscription reported (ARM's budget
is per subscription: 12,000 reads an hour in the emulator, as ARM documented it).
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.env import local_azure
from local.emulators.faults import Fault
from local.emulators.sentinel_store import SentinelStore
from local.emulators.stack import EmulatorStack
from shared.bootstrap import Root
from shared.incidents.fleet import SOURCE_CONCURRENCY, poll_all
from shared.incidents.poller import PollResult

TICK_SECONDS = 300  # INCIDENT_POLL_SCHEDULE's default: every 5 minutes


def bench_workspaces() -> list[str]:
    """Poll many seeded workspaces in one tick; time, ARM calls and quota left."""
    count = int(os.environ.get("BENCH_WORKSPACES", "50"))
    subscriptions = int(os.environ.get("BENCH_SUBSCRIPTIONS", "10"))
    per_workspace = int(os.environ.get("BENCH_WORKSPACE_INCIDENTS", "10"))
    latency = float(os.environ.get("BENCH_ARM_LATENCY_MS", "100")) / 1000
    lines = [
        f"Workspaces: {count} Sentinel workspaces in {subscriptions} subscriptions, "
        f"{per_workspace} incidents each, ARM {latency * 1000:.0f} ms per call, "
        f"{SOURCE_CONCURRENCY} sources at a time (baseline: one {TICK_SECONDS} s tick)",
        f"  {'':<26} {'seconds':>8} {'of tick':>8} {'incidents':>9} {'ARM reads':>9} "
        f"{'writes':>7} {'fewest reads left':>17}",
    ]
    with tempfile.TemporaryDirectory() as scratch, local_azure(Path(scratch)) as (stack, env):
        os.environ.update(env)  # what the Azure SDKs read themselves (identity, CA bundle)
        stack.keyvault.set_secret("signl4-team-secret", stack.signl4.team_secret)
        stores, sources = _workspaces(stack, count, subscriptions)
        for store in stores:
            for number in range(per_workspace):
                store.incidents.seed(
                    {"title": f"bench {number}", "severity": "High"},
                    incident_id=None,
                    alerts=None,
                    entities=None,
                )
        stack.sentinel.faults.add(Fault(delay=latency, path_prefix="/subscriptions/"))
        settings = {
            **env,
            **dict.fromkeys(
                ("SENTINEL_SUBSCRIPTION_ID", "SENTINEL_RESOURCE_GROUP", "SENTINEL_WORKSPACE_NAME"),
                "",
            ),
            "INCIDENT_SOURCES": json.dumps(sources),
            "INCIDENT_AUGMENT": "false",
            "HEALTH_TABLE_NAME": f"bench{uuid.uuid4().hex[:10]}",
        }
        fleet = Root(settings).incidents().fleet
        for label in ("first tick (forwards all)", "second tick (idle)"):
            before = _calls(stores)
            started = time.perf_counter()
            results = asyncio.run(poll_all(fleet, now=datetime.now(UTC)))
            elapsed = time.perf_counter() - started
            reads, writes = (
                after - then for after, then in zip(_calls(stores), before, strict=True)
            )
            _check(results, count)
            listed = sum(r.listed for r in results.values())
            left = min(r.remaining_reads or 0 for r in results.values())
            lines.append(
                f"  {label:<26} {elapsed:>8.1f} {elapsed / TICK_SECONDS:>8.1%} {listed:>9,} "
                f"{reads:>9,} {writes:>7,} {left:>17,}"
            )
        sent = len(stack.signl4.received())
        lines.append(f"  SIGNL4 alerts sent: {sent:,} of {count * per_workspace:,}")
    return lines


def _workspaces(
    stack: EmulatorStack, count: int, subscriptions: int
) -> tuple[list[SentinelStore], list[dict[str, Any]]]:
    """The emulator's first workspace and ``count - 1`` more, and their INCIDENT_SOURCES."""
    subscription_ids = [stack.sentinel_subscription_id] + [
        str(uuid.uuid4()) for _ in range(max(0, subscriptions - 1))
    ]
    stores = [stack.sentinel.store]
    for index in range(1, count):
        subscription = subscription_ids[index % len(subscription_ids)]
        stores.append(stack.sentinel.add_workspace(subscription, f"rg-{index}", f"law-{index}"))
    sources = [
        {
            "id": f"ws-{index}",
            "kind": "sentinel",
            "subscriptionId": store.ref.subscription_id,
            "resourceGroup": store.ref.resource_group,
            "workspace": store.ref.workspace,
        }
        for index, store in enumerate(stores)
    ]
    return stores, sources


def _calls(stores: list[SentinelStore]) -> tuple[int, int]:
    """ARM reads (GET) and writes (PUT, POST) routed so far, over every workspace."""
    reads = sum(store.calls("list") + store.calls("get") for store in stores)
    writes = sum(store.calls("put") + store.calls("comment") for store in stores)
    return reads, writes


def _check(results: dict[str, PollResult], count: int) -> None:
    incomplete = {k: r.reason for k, r in results.items() if not r.complete}
    assert len(results) == count, f"{len(results)} of {count} sources polled"
    assert not incomplete, f"incomplete polls: {incomplete}"
