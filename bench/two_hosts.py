"""Two instances: two local hosts of the app on one Azurite and one set of emulators.

The loads are multiples of one instance's HTTP concurrency (``perInstanceConcurrency`` 32
in ``infra/app/function.bicep``, the intake bench's 32 senders): twice it is what makes
Flex Consumption add an instance, four times it is more than one host keeps up with. Each
load runs first against one host, then split across two hosts started with the same
settings (what Flex Consumption does when it scales out), with the same senders. Each
host's throughput, their sum and the single host's figure come from the same run; lost
and duplicated rows are counted from the ingestion emulator's store. On a 2-core machine
that also runs the load generator, the sum cannot double; it must not fall.
"""

from __future__ import annotations

import math
import tempfile
import uuid
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
    """Every host's events over the run's time (one generator, one clock)."""
    return sum(r.events for r in results) / max(r.seconds for r in results)


def bench_two_hosts(
    *, events: int, concurrency: int, loads: tuple[int, ...] = (2, 4), rounds: int = 2
) -> list[str]:
    """One host, then two hosts sharing storage and emulators: throughput and integrity,
    under ``loads`` times one instance's HTTP ``concurrency`` in concurrent senders.

    Twice the concurrency is what makes Flex Consumption add the second instance; four
    times is more than one host keeps up with (its p99 climbs). Both hosts run throughout
    (the second idles while the first is measured alone), and the two set-ups alternate
    for ``rounds`` rounds; the best round of each is printed, lost and duplicated rows are
    counted over every round.
    """
    lines = [
        f"Two instances: {events:,} Fig webhooks to one local host, then split across two",
        "hosts on the same Azurite and emulators (senders bound to each in turn, one queue of",
        f"events, one generator); alternated, best of {rounds} rounds each. Noisy: one 2-core",
        "machine runs both hosts, the emulators, Azurite and the load generator; each host",
        "coalesces only its own share, so it makes more, smaller uploads. Idle: the machine's",
        "idle CPU over the timed run; gen: the load generator's own CPU (100% is one core).",
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


def _compare(
    stack: EmulatorStack, urls: list[str], secret: str, *, events: int, senders: int, rounds: int
) -> list[str]:
    """The rows for one load: one host, each of two hosts, their sum, and the ratio."""
    singles: list[LoadResult] = []
    splits: list[list[LoadResult]] = []
    lost = {"one": 0, "two": 0}
    extra = {"one": 0, "two": 0}
    uploads: dict[int, int] = {}  # id of a round's result -> its uploads
    for _ in range(rounds):
        stack.ingestion.reset()
        singles.append(run_load(urls[0], secret, events=events, senders=senders, timeout=600))
        missing, dupes, uploads[id(singles[-1])] = _integrity(stack, _accepted(singles[-1]))
        lost["one"] += missing
        extra["one"] += dupes
        stack.ingestion.reset()
        splits.append(run_split(urls, secret, events=events, senders=senders, timeout=600))
        missing, dupes, uploads[id(splits[-1])] = _integrity(
            stack, sum(_accepted(r) for r in splits[-1])
        )
        lost["two"] += missing
        extra["two"] += dupes
    one = max(singles, key=lambda r: r.rate)
    results = max(splits, key=_combined)
    tally = (str(lost["one"]), str(extra["one"]), str(uploads[id(one)]))
    lines = [_row("one host", one.rate, one, _accepted(one), tally)]
    for index, result in enumerate(results):
        lines.append(_row(f"two hosts: host {index + 1}", result.rate, result, _accepted(result)))
    combined = _combined(results)
    slowest = max(results, key=lambda r: r.p99_ms)
    accepted = sum(_accepted(r) for r in results)
    tally = (str(lost["two"]), str(extra["two"]), str(uploads[id(results)]))
    lines.append(_row("two hosts: sum", combined, slowest, accepted, tally))
    lines.append(
        f"  sum / one host: {combined / one.rate:.2f}x (p50/p99 of the sum: the slower host's;"
        " lost and dupes: over every round)"
    )
    return lines
