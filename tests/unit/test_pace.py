"""The worker's pace per target: Retry-After pauses a stream, short pauses are waited out."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.delivery.envelope import Envelope
from shared.errors import IngestionFailed, Refused, UpstreamUnavailable
from shared.retrying.deps import Result, RetryDeps
from shared.retrying.pace import Pace
from shared.retrying.worker import deliver_message
from tests.fakes import FakeDeadLetters, FakeQueue

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TARGET = "sentinel:Custom-FigEvents"


class Clock:
    """Monotonic seconds that only move when something sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def pace(clock: Clock, **options: Any) -> Pace:
    return Pace(clock=clock, sleep=clock.sleep, **options)


def test_a_target_is_free_until_held() -> None:
    """No pause: remaining 0, wait_turn returns at once without sleeping."""
    clock = Clock()
    p = pace(clock)
    assert p.remaining(TARGET) == 0
    assert asyncio.run(p.wait_turn(TARGET)) == 0
    assert clock.slept == []


def test_a_short_pause_is_waited_out_and_only_for_its_target() -> None:
    """Retry-After 3 s: that target waits 3 s; another target does not wait."""
    clock = Clock()
    p = pace(clock)
    p.hold(TARGET, 3)
    assert asyncio.run(p.wait_turn("sentinel:Custom-Other")) == 0
    assert clock.slept == []
    assert asyncio.run(p.wait_turn(TARGET)) == 0
    assert clock.slept == [3]
    assert p.remaining(TARGET) == 0


def test_a_long_pause_is_not_waited_but_returned() -> None:
    """A pause beyond max_wait_seconds: nothing slept, the time left returned."""
    clock = Clock()
    p = pace(clock, max_wait_seconds=10)
    p.hold(TARGET, 60)
    clock.now += 15
    assert asyncio.run(p.wait_turn(TARGET)) == 45
    assert clock.slept == []


def test_a_longer_pause_wins_a_shorter_one_does_not_shorten_it() -> None:
    """hold keeps the later of two ends."""
    clock = Clock()
    p = pace(clock)
    p.hold(TARGET, 8)
    p.hold(TARGET, 2)
    assert p.remaining(TARGET) == 8


class ThrottlingSink:
    """Answers 429 with Retry-After for the first ``throttled`` sends, then accepts."""

    def __init__(self, throttled: int, retry_after: float) -> None:
        self.throttled = throttled
        self.retry_after = retry_after
        self.calls = 0
        self.accepted: list[dict[str, Any]] = []

    async def send(self, stream: str, rows: Sequence[dict[str, Any]]) -> None:
        self.calls += 1
        if self.calls <= self.throttled:
            refused = Refused(
                tuple(range(len(rows))), 429, self.retry_after, "throttled", False, tuple(rows)
            )
            raise IngestionFailed(
                "throttled", refused=[refused], status=429, retry_after=self.retry_after
            )
        self.accepted.extend(rows)

    async def probe(self, stream: str) -> None:
        return None


class Spill:
    async def read(self, pointer: Any) -> str | None:
        return None

    async def delete(self, pointer: Any) -> None:
        return None


def envelope() -> Envelope:
    return Envelope(
        id=str(uuid.uuid4()),
        target=TARGET,
        source="fig",
        first_seen=NOW - timedelta(minutes=1),
        rows=[{"EventId": "e1", "TimeGenerated": "2026-11-23T11:59:00Z"}],
    )


def run_worker(sink: ThrottlingSink, p: Pace) -> tuple[Any, FakeQueue]:
    queue = FakeQueue()
    deps = RetryDeps(sink, queue, FakeDeadLetters(), Spill(), pace=p)
    outcome = asyncio.run(deliver_message(envelope().encode(), deps, now=NOW, rng=random.Random(1)))
    return outcome, queue


def test_a_429_with_a_short_retry_after_is_waited_out_in_the_invocation() -> None:
    """Throttled twice (Retry-After 2): delivered on the third try, nothing re-queued."""
    clock = Clock()
    sink = ThrottlingSink(throttled=2, retry_after=2)
    outcome, queue = run_worker(sink, pace(clock))
    assert outcome.result is Result.DELIVERED
    assert [r["EventId"] for r in sink.accepted] == ["e1"]
    assert clock.slept == [2, 2]
    assert queue == []


def test_a_429_that_keeps_coming_is_requeued_after_max_tries() -> None:
    """Still throttled after max_tries: re-queued with attempt 1 and delay >= Retry-After."""
    clock = Clock()
    sink = ThrottlingSink(throttled=100, retry_after=2)
    outcome, queue = run_worker(sink, pace(clock, max_tries=3))
    assert sink.calls == 3
    assert outcome.result is Result.REQUEUED
    ((queued, delay),) = queue
    assert queued.attempt == 1
    assert delay >= 2


def test_a_long_retry_after_requeues_at_once_and_pauses_the_next_message() -> None:
    """Retry-After 120: this message re-queued; the next one is not tried, only re-queued."""
    clock = Clock()
    p = pace(clock)
    sink = ThrottlingSink(throttled=1, retry_after=120)
    first, queue = run_worker(sink, p)
    assert first.result is Result.REQUEUED
    clock.now += 20
    second, queue = run_worker(sink, p)
    assert sink.calls == 1  # the second message was never sent
    assert second.result is Result.REQUEUED
    assert second.reason == "paced"
    ((queued, delay),) = queue
    assert queued.attempt == 0  # no attempt spent
    assert delay == 100


def test_incident_destinations_are_not_paced() -> None:
    """A 429 from a webhook destination is re-queued as before; no pause is recorded."""
    clock = Clock()
    p = pace(clock)
    calls: list[str] = []

    async def throttled(deps: RetryDeps, name: str, sent: Envelope) -> None:
        calls.append(name)
        raise UpstreamUnavailable("throttled", upstream_status=429, retry_after=2)

    queue = FakeQueue()
    deps = RetryDeps(ThrottlingSink(0, 0), queue, FakeDeadLetters(), Spill(), pace=p)
    deps = replace(deps, targets={"webhook": throttled})
    message = Envelope(
        id=str(uuid.uuid4()),
        target="webhook:soc",
        source="fig",
        first_seen=NOW - timedelta(minutes=1),
        payload={"incident": 1},
    )
    outcome = asyncio.run(deliver_message(message.encode(), deps, now=NOW, rng=random.Random(1)))
    assert calls == ["soc"]
    assert outcome.result is Result.REQUEUED
    assert p.remaining("webhook:soc") == 0
    assert clock.slept == []
