"""The retry worker with the real adapters: Logs Ingestion emulator, Azurite queue and blobs."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest
from azure.storage.queue import QueueClient

from local.emulators.faults import Fault
from local.emulators.stack import EmulatorStack
from local.host.ports import free_port
from shared.adapters.retry_storage import RetryStorage
from shared.adapters.storage import StorageRetryQueue
from shared.bootstrap import root
from shared.bootstrap.clients import build_credential, build_sink
from shared.delivery.backoff import backoff_ceiling
from shared.delivery.envelope import BlobPointer, Envelope, decode_message
from shared.errors import UpstreamUnavailable
from shared.retrying.deps import Result, RetryDeps, RetryOutcome
from shared.retrying.worker import deliver_message
from shared.rows.timepolicy import parse_timestamp
from tests.retry_support import (
    STREAM,
    envelope,
    fig_row,
    host_decode,
)

pytestmark = pytest.mark.usefixtures("app_env")


@pytest.fixture
def deps(retry_storage: RetryStorage, app_env: dict[str, str]) -> RetryDeps:
    """The worker's dependencies: the real sink on the emulators, storage on Azurite."""
    settings = root().settings()
    return RetryDeps(
        sink=build_sink(settings, build_credential(settings)),
        queue=retry_storage.queue,
        dead_letters=retry_storage.dead_letters,
        spill=retry_storage.spill,
    )


def run(text: str, deps: RetryDeps, now: datetime | None = None) -> RetryOutcome:
    moment = now or datetime.now(UTC)
    return asyncio.run(deliver_message(text, deps, now=moment, rng=random.Random(7)))


def queued(queue: QueueClient) -> list[Envelope]:
    """The visible messages on the queue, decoded as the host decodes them."""
    messages = list(queue.peek_messages(max_messages=32))
    return [Envelope.decode(host_decode(m.content)) for m in messages]


def test_success_is_delivered_and_leaves_nothing_behind(
    deps: RetryDeps, emulators: EmulatorStack, retry_storage: RetryStorage
) -> None:
    """The rows land; nothing is queued again or dead-lettered."""
    sent = envelope()
    outcome = run(sent.encode(), deps)
    assert (outcome.result, outcome.envelope_id, outcome.late_rows) == (
        Result.DELIVERED,
        sent.id,
        0,
    )
    assert sent.rows is not None
    assert [r.row["EventId"] for r in emulators.ingestion.rows(STREAM)] == [sent.rows[0]["EventId"]]
    assert asyncio.run(retry_storage.queue.depth()) == 0
    assert asyncio.run(retry_storage.dead_letters.count()) == 0


def test_throttling_is_requeued_no_sooner_than_retry_after(
    deps: RetryDeps, emulators: EmulatorStack, retry_storage: RetryStorage
) -> None:
    """429 with Retry-After 120: re-queued with attempt 1 and a delay of at least 120 s."""
    emulators.ingestion.faults.add(Fault(status=429, retry_after=120, times=1))
    sent = envelope()
    outcome = run(sent.encode(), deps)
    assert outcome.result is Result.REQUEUED
    assert outcome.delay_seconds is not None
    assert outcome.delay_seconds >= 120
    assert emulators.ingestion.rows() == []
    assert asyncio.run(retry_storage.queue.depth()) == 1
    assert asyncio.run(retry_storage.dead_letters.count()) == 0


def test_a_server_error_is_requeued_with_backoff(
    deps: RetryDeps, emulators: EmulatorStack, retry_storage: RetryStorage, raw_queue: QueueClient
) -> None:
    """503 on retry 2: re-queued, hidden for a wait within that retry's backoff ceiling."""
    emulators.ingestion.faults.add(Fault(status=503, times=1))
    outcome = run(envelope(attempt=2).encode(), deps)
    assert outcome.result is Result.REQUEUED
    assert outcome.delay_seconds is not None
    assert 1 <= outcome.delay_seconds <= backoff_ceiling(2)  # seeded: not 0
    assert asyncio.run(retry_storage.queue.depth()) == 1
    assert raw_queue.peek_messages(max_messages=32) == []  # still waiting


class NoJitter(random.Random):
    """Draws the shortest wait, so a re-queued message is visible at once."""

    def uniform(self, a: float, b: float) -> float:
        return a


def test_the_requeued_message_is_the_next_attempt(
    deps: RetryDeps, emulators: EmulatorStack, raw_queue: QueueClient
) -> None:
    """Same id, rows and first_seen; attempt + 1 and the failure's status recorded."""
    emulators.ingestion.faults.add(Fault(status=503, times=1))
    sent = envelope(attempt=2)
    now = datetime.now(UTC)
    outcome = asyncio.run(deliver_message(sent.encode(), deps, now=now, rng=NoJitter()))
    assert (outcome.result, outcome.delay_seconds) == (Result.REQUEUED, 0)
    [again] = queued(raw_queue)
    assert (again.id, again.attempt, again.last_status) == (sent.id, 3, 503)
    assert (again.rows, again.first_seen) == (sent.rows, sent.first_seen)


@pytest.mark.parametrize("status", [400, 404])
def test_a_permanent_refusal_is_dead_lettered(
    status: int, deps: RetryDeps, emulators: EmulatorStack, retry_storage: RetryStorage
) -> None:
    """400 and 404: dead-lettered with the reason and the rows, nothing re-queued."""
    emulators.ingestion.faults.add(Fault(status=status, times=1))
    sent = envelope()
    outcome = run(sent.encode(), deps)
    assert outcome.result is Result.DEAD_LETTERED
    assert outcome.reason is not None
    assert outcome.reason.startswith("permanent:")
    assert str(status) in outcome.reason
    [name] = outcome.dead_letters
    dead = asyncio.run(retry_storage.dead_letters.get(name))
    assert dead is not None
    stored = dead.envelope()
    assert (stored.id, stored.rows, stored.last_status) == (sent.id, sent.rows, status)
    assert asyncio.run(retry_storage.queue.depth()) == 0


def test_an_exhausted_budget_is_dead_lettered(
    deps: RetryDeps, emulators: EmulatorStack, retry_storage: RetryStorage
) -> None:
    """Still failing 47 hours after first seen: dead-lettered as budget exhausted."""
    emulators.ingestion.faults.add(Fault(status=503, times=1))
    now = datetime.now(UTC)
    sent = envelope(first_seen=now - timedelta(hours=47) + timedelta(seconds=1), attempt=40)
    outcome = run(sent.encode(), deps, now)
    assert outcome.result is Result.DEAD_LETTERED
    assert outcome.reason is not None
    assert outcome.reason.startswith("budget exhausted")
    assert asyncio.run(retry_storage.queue.depth()) == 0
    assert asyncio.run(retry_storage.dead_letters.count()) == 1


@pytest.mark.parametrize(
    "text",
    [
        "not json at all",
        '{"v": 2, "kind": "envelope"}',
        '{"v": 1, "kind": "pointer", "container": "x"}',
        "",
    ],
)
def test_an_unreadable_message_becomes_a_dead_letter(
    text: str, deps: RetryDeps, retry_storage: RetryStorage
) -> None:
    """Never raised, never retried: kept as an unreadable dead letter."""
    outcome = run(text, deps)
    assert outcome.result is Result.UNREADABLE
    [name] = outcome.dead_letters
    dead = asyncio.run(retry_storage.dead_letters.get(name))
    assert dead is not None
    assert dead.document["text"] == text
    assert not dead.replayable


def test_a_stale_time_generated_is_set_to_now(deps: RetryDeps, emulators: EmulatorStack) -> None:
    """A row whose TimeGenerated is 3 days old lands at now, keeping EventTime; counted late."""
    now = datetime.now(UTC)
    old = now - timedelta(days=3)
    sent = envelope(rows=[fig_row(old), fig_row(now)], first_seen=now - timedelta(hours=1))
    outcome = run(sent.encode(), deps, now)
    assert (outcome.result, outcome.late_rows) == (Result.DELIVERED, 1)
    first, second = (r.row for r in emulators.ingestion.rows(STREAM))
    assert parse_timestamp(first["TimeGenerated"]) >= now - timedelta(seconds=1)
    assert parse_timestamp(first["EventTime"]) == parse_timestamp(old.isoformat())
    assert sent.rows is not None
    assert second["TimeGenerated"] == sent.rows[1]["TimeGenerated"]
    assert [e.kind for e in emulators.ingestion.errors()] == []  # nothing replaced by the service


def test_a_spilled_envelope_is_delivered_and_its_blob_removed(
    deps: RetryDeps, emulators: EmulatorStack, retry_storage: RetryStorage, raw_queue: QueueClient
) -> None:
    """A pointer is followed to its blob; once delivered, the blob is deleted."""
    now = datetime.now(UTC)
    big = envelope(rows=[fig_row(now, Message="y" * 30_000) for _ in range(2)])
    asyncio.run(retry_storage.queue.enqueue(big))
    [message] = list(raw_queue.receive_messages())
    text = host_decode(message.content)
    pointer = decode_message(text)
    assert isinstance(pointer, BlobPointer)
    outcome = run(text, deps)
    assert outcome.result is Result.DELIVERED
    assert len(emulators.ingestion.rows(STREAM)) == 2
    assert asyncio.run(retry_storage.spill.read(pointer)) is None


def test_a_pointer_to_a_missing_blob_is_unreadable(
    deps: RetryDeps, retry_storage: RetryStorage
) -> None:
    """The spilled blob is gone: an unreadable dead letter that says so."""
    sent = envelope()
    pointer = BlobPointer(
        container=retry_storage.spill.container_name,
        blob=f"2026-01-01/{sent.id}/0-gone.json",
        envelope_id=sent.id,
        target=sent.target,
    )
    outcome = run(pointer.encode(), deps)
    assert outcome.result is Result.UNREADABLE
    assert outcome.reason is not None
    assert "missing" in outcome.reason


def test_an_unknown_target_kind_is_dead_lettered(
    deps: RetryDeps, retry_storage: RetryStorage
) -> None:
    """No deliverer registered for the kind: dead-lettered, not retried for 47 hours."""
    outcome = run(envelope(target="pager:oncall").encode(), deps)
    assert outcome.result is Result.DEAD_LETTERED
    assert outcome.reason is not None
    assert "pager" in outcome.reason


def test_a_storage_outage_while_requeueing_raises(
    deps: RetryDeps, emulators: EmulatorStack, retry_storage: RetryStorage
) -> None:
    """503 and the queue unreachable: the worker raises, so the host redelivers the original."""
    emulators.ingestion.faults.add(Fault(status=503, times=1))
    dead_port = free_port()
    connection = (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
        f"QueueEndpoint=http://127.0.0.1:{dead_port}/devstoreaccount1;"
    )
    down = StorageRetryQueue(
        QueueClient.from_connection_string(connection, "q-down", retry_total=0),
        retry_storage.spill,
    )
    broken = RetryDeps(sink=deps.sink, queue=down, dead_letters=deps.dead_letters, spill=deps.spill)
    with pytest.raises(UpstreamUnavailable):
        run(envelope().encode(), broken)
    assert asyncio.run(retry_storage.dead_letters.count()) == 0
