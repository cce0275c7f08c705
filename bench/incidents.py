"""Incident forwarding benchmark: seeded incidents to SIGNL4, ARM calls counted by the emulator.

BENCH_INCIDENTS sets how many incidents are seeded (5,000 by default, as the issue names).
Figures: time to forward all, ARM calls per incident without augmentation (the list's
share plus the tag), the same with alerts and entities on a tenth of them, and an idle
poll (the goal: one ARM call).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from bench.env import local_azure
from local.emulators.stack import EmulatorStack
from shared.bootstrap import Root
from shared.bootstrap.incidents import IncidentWiring
from shared.incidents.poller import PollResult, poll


def bench_incidents(*, incidents: int | None = None) -> list[str]:
    """Forward ``incidents`` seeded incidents; report time and ARM calls per incident."""
    count = incidents or int(os.environ.get("BENCH_INCIDENTS", "5000"))
    lines = [
        f"Incidents: {count:,} seeded in the Sentinel emulator, forwarded to the SIGNL4 stand-in",
        f"  {'':<32} {'incidents':>9} {'seconds':>8} {'ARM calls':>9} {'per incident':>12}",
    ]
    with tempfile.TemporaryDirectory() as scratch, local_azure(Path(scratch)) as (stack, env):
        os.environ.update(env)
        stack.keyvault.set_secret("signl4-team-secret", stack.signl4.team_secret)
        for label, seeded, augment in (
            ("without augmentation", count, False),
            ("with alerts and entities", max(1, count // 10), True),
        ):
            wiring = _fresh(stack, env)
            for number in range(seeded):
                stack.sentinel.seed_incident(title=f"bench {number}", severity="High")
            before = stack.sentinel.calls()
            started = time.perf_counter()
            result = _poll(wiring, augment=augment, sweep=True)
            elapsed = time.perf_counter() - started
            calls = stack.sentinel.calls() - before
            sent = len(stack.signl4.received())
            assert result.complete, f"{label}: the poll did not complete ({result.reason})"
            assert sent == seeded, f"{label}: {sent} of {seeded} sent"
            lines.append(
                f"  {label:<32} {seeded:>9,} {elapsed:>8.2f} {calls:>9,} {calls / seeded:>12.2f}"
            )
            before = stack.sentinel.calls()
            started = time.perf_counter()
            _poll(wiring, augment=augment, sweep=False)
            idle_calls = stack.sentinel.calls() - before
            idle = time.perf_counter() - started
        lines.append(
            f"  {'idle poll (after the last run)':<32} {'':>9} {idle:>8.2f} {idle_calls:>9}"
        )
    return lines


def _fresh(stack: EmulatorStack, env: dict[str, str]) -> IncidentWiring:
    """Empty workspace, SIGNL4 and incident state (a table of its own)."""
    stack.sentinel.reset()
    stack.signl4.reset()
    table = {"HEALTH_TABLE_NAME": f"bench{uuid.uuid4().hex[:10]}"}
    return Root({**env, **table}).incidents()


def _poll(wiring: IncidentWiring, *, augment: bool, sweep: bool) -> PollResult:
    return asyncio.run(poll(wiring.forwarder, now=datetime.now(UTC), augment=augment, sweep=sweep))
