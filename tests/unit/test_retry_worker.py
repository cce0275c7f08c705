"""The retry worker's rules with small fakes: splitting refusals, order of writes, budget."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.delivery.envelope import BlobPointer, Envelope
from shared.errors import ConfigError, IngestionFailed, Refused, UpstreamUnavailable
from shared.retrying.deps import Deliver, Result, RetryDeps, RetryOutcome
from shared.retrying.worker import deliver_message
from tests.fakes import FakeQueue

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
STREAM = "Custom-FigEvents"


class Journal(list[str]):
    """The order in which the fakes were written to."""


class Sink:
    def __init__(self, journal: Journal, error: Exception | None = None) -> None:
        self.journal = journal
        self.error = error
        self.sent: list[tuple[str, list[dict[str, Any]]]] = []

    async def send(self, stream: str, rows: Sequence[dict[str, Any]]) -> None:
        self.journal.append("send")
        if self.error is not None:
            raise self.error
        self.sent.append((stream, list(rows)))

    async def probe(self, stream: str) -> None:
        return None


class Queue(FakeQueue):
    """The suite's fake queue, writing to the journal too."""

    def __init__(self, journal: Journal, *, down: bool = False) -> None:
        super().__init__()
        self.journal = journal
        self.down = down

    async def enqueue(self, envelope: Envelope, *, delay_seconds: float = 0.0) -> None:
        self.journal.append("enqueue")
        await super().enqueue(envelope, delay_seconds=delay_seconds)


class DeadLetters(dict[str, Any]):
    def __init__(self, journal: Journal) -> None:
        super().__init__()
        self.journal = journal

    async def put(self, envelope: Envelope, *, reason: str) -> str:
        self.journal.append("dead-letter")
        name = f"dead-{len(self)}"
        self[name] = (envelope, reason)
        return name

    async def put_unreadable(self, text: str, *, reason: str) -> str:
        self.journal.append("unreadable")
        name = f"unreadable-{len(self)}"
        self[name] = (text, reason)
        return name

    async def count(self) -> int:
        return len(self)


class Spill(dict[str, str]):
    async def read(self, pointer: BlobPointer) -> str | None:
        return self.get(pointer.blob)

    async def delete(self, pointer: BlobPointer) -> None:
        self.pop(pointer.blob, None)


def row(n: int, *, time_generated: datetime = NOW) -> dict[str, Any]:
    stamp = time_generated.isoformat().replace("+00:00", "Z")
    return {"TimeGenerated": stamp, "EventTime": stamp, "EventId": f"e{n}"}


def envelope(rows: list[dict[str, Any]], **fields: Any) -> Envelope:
    values: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "target": f"sentinel:{STREAM}",
        "source": "fig",
        "first_seen": NOW - timedelta(minutes=5),
        "rows": rows,
    } | fields
    return Envelope(**values)


def refused(
    rows: list[dict[str, Any]], status: int, *, retry_after: float | None = None
) -> Refused:
    return Refused(
        tuple(range(len(rows))),
        status,
        retry_after,
        f"Logs Ingestion answered {status}",
        permanent=status in (400, 404, 413),
        rows=tuple(rows),
    )


@dataclass
class Fakes:
    """The fakes behind one RetryDeps, typed for the assertions."""

    journal: Journal
    sink: Sink
    queue: Queue
    dead_letters: DeadLetters
    spill: Spill

    def deps(self, **targets: Deliver) -> RetryDeps:
        deps = RetryDeps(self.sink, self.queue, self.dead_letters, self.spill)
        return replace(deps, targets=targets) if targets else deps


def setup(error: Exception | None = None, *, queue_down: bool = False) -> Fakes:
    journal = Journal()
    return Fakes(
        journal,
        Sink(journal, error),
        Queue(journal, down=queue_down),
        DeadLetters(journal),
        Spill(),
    )


def run(text: str, deps: RetryDeps) -> RetryOutcome:
    return asyncio.run(deliver_message(text, deps, now=NOW, rng=random.Random(1)))


def test_a_mixed_refusal_is_split_and_accepted_rows_are_not_resent() -> None:
    """Row 1 accepted, row 2 refused for good, row 3 for now: each goes its own way."""
    rows = [row(1), row(2), row(3)]
    failure = IngestionFailed(
        "refused",
        refused=[refused([rows[1]], 400), refused([rows[2]], 429, retry_after=60)],
        status=429,
        retry_after=60,
    )
    fakes = setup(failure)
    sent = envelope(rows)
    outcome = run(sent.encode(), fakes.deps())
    assert outcome.result is Result.REQUEUED
    assert fakes.journal == ["send", "dead-letter", "enqueue"]  # dead letters first
    [(queued, delay)] = fakes.queue
    assert (queued.id, queued.rows, queued.attempt, queued.last_status) == (
        sent.id,
        [rows[2]],
        1,
        429,
    )
    assert delay >= 60
    [(dead, reason)] = fakes.dead_letters.values()
    assert dead.rows == [rows[1]]
    assert dead.id != sent.id  # a delivery of its own from now on
    assert reason == "permanent: Logs Ingestion answered 400"
    assert len(outcome.dead_letters) == 1


def test_a_refusal_of_every_row_for_good_keeps_the_id() -> None:
    """All rows refused with 413: one dead letter, same envelope id, nothing queued."""
    rows = [row(1)]
    failure = IngestionFailed("refused", refused=[refused(rows, 413)], status=413)
    fakes = setup(failure)
    sent = envelope(rows)
    outcome = run(sent.encode(), fakes.deps())
    assert outcome.result is Result.DEAD_LETTERED
    assert fakes.journal == ["send", "dead-letter"]
    [(dead, _)] = fakes.dead_letters.values()
    assert dead.id == sent.id


@pytest.mark.parametrize(
    "error",
    [
        ConfigError(["KEY_VAULT_URI is not set"]),
        UpstreamUnavailable("token endpoint down"),
        UpstreamUnavailable("forbidden", upstream_status=403),
    ],
)
def test_failures_that_can_pass_are_requeued(error: Exception) -> None:
    """Settings being fixed, an identity outage, a role still propagating: retried later."""
    fakes = setup(error)
    outcome = run(envelope([row(1)]).encode(), fakes.deps())
    assert outcome.result is Result.REQUEUED
    assert len(fakes.queue) == 1


def test_the_budget_counts_the_next_wait() -> None:
    """A wait that would end past the budget dead-letters now, rather than later."""
    fakes = setup(UpstreamUnavailable("down", upstream_status=503))
    sent = envelope(
        [row(1)], first_seen=NOW - timedelta(hours=47) + timedelta(seconds=30), attempt=10
    )
    outcome = asyncio.run(deliver_message(sent.encode(), fakes.deps(), now=NOW, rng=FixedRng(120)))
    assert outcome.result is Result.DEAD_LETTERED
    assert outcome.reason is not None
    assert "budget exhausted" in outcome.reason


class FixedRng(random.Random):
    """Always draws ``value`` (clamped to the range asked)."""

    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def uniform(self, a: float, b: float) -> float:
        return min(max(self.value, a), b)


def test_a_failing_queue_raises_and_nothing_is_dead_lettered() -> None:
    """Re-queueing failed: the original must be redelivered by the host, so it raises."""
    fakes = setup(UpstreamUnavailable("down", upstream_status=503), queue_down=True)
    with pytest.raises(UpstreamUnavailable):
        run(envelope([row(1)]).encode(), fakes.deps())
    assert fakes.journal == ["send", "enqueue"]


def test_a_payload_for_sentinel_is_dead_lettered() -> None:
    """A sentinel envelope without rows cannot be delivered: kept, not retried."""
    fakes = setup()
    sent = Envelope(
        id=str(uuid.uuid4()),
        target=f"sentinel:{STREAM}",
        source="fig",
        first_seen=NOW,
        payload={"a": 1},
    )
    outcome = run(sent.encode(), fakes.deps())
    assert outcome.result is Result.DEAD_LETTERED


def test_other_target_kinds_are_looked_up_in_the_registry() -> None:
    """A registered kind gets the name after the colon and the envelope."""
    calls: list[tuple[str, str]] = []

    async def page(deps: RetryDeps, name: str, sent: Envelope) -> None:
        calls.append((name, sent.id))

    fakes = setup()
    sent = Envelope(
        id=str(uuid.uuid4()), target="signl4:team-a", source="fig", first_seen=NOW, payload={}
    )
    assert run(sent.encode(), fakes.deps(signl4=page)).result is Result.DELIVERED
    assert calls == [("team-a", sent.id)]


def test_a_spilled_envelope_is_read_and_its_blob_deleted() -> None:
    """The pointer leads to the blob; after delivery the blob is gone."""
    fakes = setup()
    sent = envelope([row(1)])
    pointer = BlobPointer(container="spill", blob="b1", envelope_id=sent.id, target=sent.target)
    fakes.spill["b1"] = sent.encode()
    assert run(pointer.encode(), fakes.deps()).result is Result.DELIVERED
    assert fakes.spill == {}
    assert fakes.sink.sent == [(STREAM, sent.rows)]


def test_a_spilled_blob_that_is_not_an_envelope_is_unreadable() -> None:
    """Garbage behind a pointer is kept as unreadable, with the blob's text."""
    fakes = setup()
    sent = envelope([row(1)])
    pointer = BlobPointer(container="spill", blob="b1", envelope_id=sent.id, target=sent.target)
    fakes.spill["b1"] = "garbage"
    outcome = run(pointer.encode(), fakes.deps())
    assert outcome.result is Result.UNREADABLE
    assert list(fakes.dead_letters.values()) == [("garbage", outcome.reason)]


def test_late_rows_are_restamped_before_sending() -> None:
    """Only the row past the window is changed, and it is counted."""
    fakes = setup()
    old = row(1, time_generated=NOW - timedelta(days=2))
    fresh = row(2, time_generated=NOW - timedelta(hours=1))
    outcome = run(envelope([old, fresh]).encode(), fakes.deps())
    assert outcome.late_rows == 1
    [(_, sent)] = fakes.sink.sent
    assert sent[0]["TimeGenerated"] == "2026-11-23T12:00:00Z"
    assert sent[0]["EventTime"] == old["EventTime"]
    assert sent[1] == fresh
