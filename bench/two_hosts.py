"""Two instances: two local hosts of the app on one Azurite and one set of emulators.

The loads are multiples of one instance's HTTP concurrency (``perInstanceConcurrency`` 32
in ``infra/app/function.bicep``, the intake bench's 32 senders): twice it is what makes
Flex Consumption add an instance, four times it is more than one host keeps up with. Each
load runs in rounds: in each, the senders go to one host, and, back to back, are split
across two hosts started with the same settings (what Flex Consumption does when it
scales out), in turns which first. Each host's throughput, their sum and the single
host's figure come from the same run; the ratio is the median of the rounds' own ratios.
Lost and duplicated rows are counted from the ingestion emulator's store. On a 2-core
machine that also runs the load generator, the sum cannot double; it must not fall.
"""

from __future__ import annotations

import math
import os
import statistics
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from bench.env import local_azure
from bench.load import LoadResult, run_load, run_split
from local.emulators.stack import EmulatorStack
from local.host.process import LocalHostProcess
from shared.auth.fig import hash_fig_secret

STREAM = "Custom-FigEvents"
INSTANCES = 2
# The coalescing window docs/scaling.md sets for P busy instances on one DCR (P x 1000 /
# 160 ms, 80% of its 200 requests/s): with the default 5 ms two instances could ask for
# 400 uploads/s. Both set-ups run with it, as the same deployment would.
WINDOW_MS = math.ceil(INSTANCES * 1000 / 160)
# One process per core: in one, a single loop takes both hosts' answers (bench/load.py).
GENERATORS = os.cpu_count() or 1
ROUNDS = 7  # this VM's speed drifts by a quarter within minutes; pairs and a median tame it


def _accepted(result: LoadResult) -> int:
    return sum(n for status, n in result.statuses.items() if 200 <= status < 300)


def _integrity(stack: EmulatorStack, accepted: int) -> tuple[int, int, int]:
    """(lost, extra duplicates, uploads): 2xx answers without a row, rows beyond one per
    event, and the upload requests the ingestion emulator took."""
    ids = [r.row["EventId"] for r in stack.ingestion.rows(STREAM)]
    uploads = int(stack.ingestion.stats()["streams"].get(STREAM, {}).get("requests", 0))
    return max(0, accepted - len(set(ids))), len(ids) - len(set(ids)), uploads


def _row(
    name: str, rate: float, latency: LoadResult, accepted: int, tally: tuple[str, ...] = ()
) -> str:
    lost, extra, uploads = tally or ("", "", "")
    idle = f"{latency.idle:.0%}" if tally else ""
    generator = f"{latency.generator_cpu / latency.seconds:.0%}" if tally else ""
    return (
        f"  {name:<24} {rate:>9.0f} {latency.p50_ms:>7.1f} {latency.p99_ms:>7.1f}"
        f" {accepted:>6} {lost:>5} {extra:>6} {uploads:>8} {idle:>5} {generator:>5}"
    )


def _combined(results: list[LoadResult]) -> float:
    """Every host's events over the run's time (the same span for every host)."""
    return sum(r.events for r in results) / max(r.seconds for r in results)


def bench_two_hosts(
    *, events: int, concurrency: int, loads: tuple[int, ...] = (2, 4), rounds: int = ROUNDS
) -> list[str]:
    """One host, then two hosts sharing storage and emulators: throughput and integrity,
    under ``loads`` times one instance's HTTP ``concurrency`` in concurrent senders.

    Twice the concurrency is what makes Flex Consumption add the second instance; four
    times is more than one host keeps up with (its p99 climbs). Both hosts run throughout
    (the second idles while the first is measured alone). Each of ``rounds`` rounds runs
    both set-ups back to back, in turns which first; the ratio is the median of the
    rounds' ratios (a round's two runs share the machine's speed of the moment), the rows
    are each set-up's median round, and lost and duplicated rows count every round.
    """
    lines = [
        f"Two instances: {events:,} Fig webhooks to one local host, then split across two",
        "hosts on the same Azurite and emulators (senders bound to each in turn; the load",
        f"generator in {GENERATORS} processes, each with a share of the events). {rounds} rounds,"
        " each",
        "running both set-ups back to back (in turns which first); rows: each set-up's median",
        "round; the ratio: the median of the rounds' own ratios, which cancels this VM's drift",
        "in speed. Noisy: one 2-core machine runs both hosts, the emulators, Azurite and the",
        "load generator; each host coalesces only its own share, so it makes more, smaller",
        "uploads. Idle: the machine's idle CPU over the timed run; gen: the load generator's",
        "own CPU (100% is one core).",
        f"COALESCE_WINDOW_MS={WINDOW_MS}, as docs/scaling.md sets it for {INSTANCES} busy"
        " instances on one DCR. Each",
        "sender has one webhook in flight, so a host's upload holds at most its senders' rows,",
        "and uploads start a window apart: either set-up is capped at senders x 1000 / window.",
    ]
    secret = str(uuid.uuid4())
    with tempfile.TemporaryDirectory() as scratch, local_azure(Path(scratch)) as (stack, env):
        stack.keyvault.set_secret("fig-secret-hash", hash_fig_secret(secret))
        env = {**env, "COALESCE_WINDOW_MS": str(WINDOW_MS)}
        with LocalHostProcess(env=env) as first, LocalHostProcess(env=env) as second:
            urls = [host.url("/api/fig/SecurityEvent") for host in (first, second)]
            for url in urls:
                run_load(url, secret, events=500, senders=concurrency)  # warm up
            for load in loads:
                senders = load * concurrency
                ceiling = senders * 1000 / WINDOW_MS
                lines += [
                    f"  {senders} concurrent senders ({load}x one instance's {concurrency});"
                    f" the window's cap for either set-up: {ceiling:,.0f}/s",
                    f"  {'':<24} {'events/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'2xx':>6}"
                    f" {'lost':>5} {'dupes':>6} {'uploads':>8} {'idle':>5} {'gen':>5}",
                    *_compare(stack, urls, secret, events=events, senders=senders, rounds=rounds),
                ]
    return lines


@dataclass(frozen=True)
class _Run:
    """One set-up's run in one round: a result per host and what the emulator saw."""

    results: list[LoadResult]
    lost: int
    extra: int
    uploads: int

    @property
    def rate(self) -> float:
        return _combined(self.results)


def _run(stack: EmulatorStack, urls: list[str], secret: str, *, events: int, senders: int) -> _Run:
    stack.ingestion.reset()
    results = run_split(
        urls, secret, events=events, senders=senders, timeout=600, processes=GENERATORS
    )
    lost, extra, uploads = _integrity(stack, sum(_accepted(r) for r in results))
    return _Run(results, lost, extra, uploads)


def _compare(
    stack: EmulatorStack, urls: list[str], secret: str, *, events: int, senders: int, rounds: int
) -> list[str]:
    """The rows for one load: one host, each of two hosts, their sum, and the ratio."""
    pairs: list[tuple[_Run, _Run]] = []
    for index in range(rounds):
        if index % 2 == 0:
            one = _run(stack, urls[:1], secret, events=events, senders=senders)
            two = _run(stack, urls, secret, events=events, senders=senders)
        else:
            two = _run(stack, urls, secret, events=events, senders=senders)
            one = _run(stack, urls[:1], secret, events=events, senders=senders)
        pairs.append((one, two))
    ones = [one for one, _ in pairs]
    twos = [two for _, two in pairs]
    ratios = sorted(two.rate / one.rate for one, two in pairs)
    one = _median(ones)
    two = _median(twos)
    (single,) = one.results
    tally = _tally(ones, one)
    lines = [_row("one host", single.rate, single, _accepted(single), tally)]
    for index, result in enumerate(two.results):
        lines.append(_row(f"two hosts: host {index + 1}", result.rate, result, _accepted(result)))
    slowest = max(two.results, key=lambda r: r.p99_ms)
    accepted = sum(_accepted(r) for r in two.results)
    tally = _tally(twos, two)
    lines.append(_row("two hosts: sum", two.rate, slowest, accepted, tally))
    lines += [
        f"  sum / one host: {statistics.median(ratios):.2f}x, the median of {rounds} rounds'"
        f" ratios ({ratios[0]:.2f}x to {ratios[-1]:.2f}x)",
        "  (p50/p99 of the sum: the slower host's; lost and dupes: over every round)",
    ]
    return lines


def _tally(runs: list[_Run], shown: _Run) -> tuple[str, str, str]:
    """Lost and duplicated rows over every round of a set-up, and the shown round's uploads."""
    return str(sum(r.lost for r in runs)), str(sum(r.extra for r in runs)), str(shown.uploads)


def _median(runs: list[_Run]) -> _Run:
    return sorted(runs, key=lambda run: run.rate)[len(runs) // 2]
