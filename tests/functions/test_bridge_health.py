"""The bridge health timer end to end: processes' counters on Azurite, rows in the emulator."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import azure.functions as func
import pytest
from azure.data.tables import TableClient
from azure.functions.timer import TimerRequest

from blueprints.bridge_health import blueprint as bridge_health_blueprint
from local.azurite import ACCOUNT_KEY, ACCOUNT_NAME, Azurite
from local.emulators.faults import Fault
from local.emulators.stack import EmulatorStack
from local.host.ports import free_port
from shared.adapters.deadletters import BlobDeadLetters
from shared.adapters.health_table import HealthTable, build_health_table
from shared.adapters.storage import StorageRetryQueue, build_dead_letters, build_retry_queue
from shared.bootstrap import root
from shared.bootstrap.clients import build_credential, build_sink
from shared.config.storage import parse_storage_connection
from shared.delivery.envelope import Envelope
from shared.telemetry import metrics
from shared.telemetry.bridge_health import (
    KEEP_REPORTED,
    BridgeHealthWiring,
    RunResult,
    health_summary,
    run_bridge_health,
)
from shared.telemetry.flush import Flusher
from shared.telemetry.metrics import WINDOW, Counters, window_start
from tests.azure_fixtures import use_settings

pytestmark = pytest.mark.usefixtures("app_env")
STREAM = "Custom-BridgeHealth"


class Clock:
    """A settable clock."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass(frozen=True)
class Wiring(BridgeHealthWiring):
    """The timer's adapters, typed as built here for the assertions."""

    health_table: HealthTable
    flusher: Flusher
    retry_queue: StorageRetryQueue
    dead_letters: BlobDeadLetters


@pytest.fixture
def window() -> datetime:
    """A window that ended an hour ago: recent enough for TimeGenerated to be kept."""
    return window_start(datetime.now(UTC)) - timedelta(hours=1)


@pytest.fixture
def wiring(azurite: Azurite, window: datetime) -> Wiring:
    suffix = uuid.uuid4().hex[:10]
    connection = parse_storage_connection({"AzureWebJobsStorage": azurite.connection_string})
    table = build_health_table(connection, None, table_name=f"health{suffix}")
    settings = root().settings()
    return Wiring(
        sink=build_sink(settings, build_credential(settings)),
        health_table=table,
        flusher=Flusher(Counters("timer", clock=Clock(window)), table),
        retry_queue=build_retry_queue(
            connection, None, queue_name=f"retries-{suffix}", spill_container=f"spill-{suffix}"
        ),
        dead_letters=build_dead_letters(connection, None, container=f"dead-{suffix}"),
        bridge_name="bridge-test",
    )


def process(wiring: Wiring, name: str, at: datetime) -> tuple[Counters, Flusher]:
    """Another bridge process writing to the same table."""
    counters = Counters(name, clock=Clock(at))
    return counters, Flusher(counters, wiring.health_table, clock=Clock(at))


def run(wiring: BridgeHealthWiring, now: datetime) -> RunResult:
    return asyncio.run(run_bridge_health(wiring, now=now))


def landed(emulators: EmulatorStack) -> list[dict[str, Any]]:
    return [stored.row for stored in emulators.ingestion.rows(STREAM)]


def envelope() -> Envelope:
    row = {"TimeGenerated": "2026-11-23T12:00:00Z", "EventId": uuid.uuid4().hex}
    return Envelope(
        id=str(uuid.uuid4()),
        target="sentinel:Custom-FigEvents",
        source="fig",
        first_seen=datetime.now(UTC),
        rows=[row],
    )


def test_a_flush_lands_in_the_table_and_reads_back(wiring: Wiring, window: datetime) -> None:
    """One entity per window and process, with the totals as counted."""
    counters, flusher = process(wiring, "p1", window + timedelta(seconds=10))
    counters.count("fig", metrics.RECEIVED, 2)
    counters.count("fig", metrics.rejected("MalformedPayload"))
    assert asyncio.run(flusher.flush()) == 1
    counters.count("fig", metrics.RECEIVED)
    asyncio.run(flusher.flush())  # the same entity, replaced with the new absolute totals
    [stored] = asyncio.run(wiring.health_table.windows(before=window + WINDOW))
    assert stored.start == window
    assert stored.writers == {
        "p1": {("source", "fig", "received"): 3, ("source", "fig", "rejected:MalformedPayload"): 1}
    }
    assert stored.marker is None


def test_two_processes_are_summed_into_rows_the_table_accepts(
    wiring: Wiring, window: datetime, emulators: EmulatorStack
) -> None:
    """Per-source totals of both processes, and a bridge row with queue and dead letters."""
    first, first_flusher = process(wiring, "p1", window + timedelta(minutes=1))
    second, second_flusher = process(wiring, "p2", window + timedelta(minutes=4))
    first.count("fig", metrics.RECEIVED, 3)
    first.count("fig", metrics.ACCEPTED, 3)
    second.count("fig", metrics.RECEIVED, 2)
    second.count("fig", metrics.rejected("Unauthorized"), 2)
    second.count("wallarm", metrics.QUEUED, 4)
    asyncio.run(first_flusher.flush())
    asyncio.run(second_flusher.flush())
    asyncio.run(wiring.retry_queue.enqueue(envelope()))
    asyncio.run(wiring.retry_queue.enqueue(envelope()))
    asyncio.run(wiring.dead_letters.put(envelope(), reason="400 from Logs Ingestion"))

    result = run(wiring, window + WINDOW + timedelta(seconds=90))

    assert (result.windows, result.rows, result.sent) == (1, 3, True)
    rows = {(r["Kind"], r["Name"]): r for r in landed(emulators)}
    fig, wallarm = rows[("source", "fig")], rows[("source", "wallarm")]
    assert (fig["Received"], fig["Accepted"], fig["Rejected"]) == (5, 3, 2)
    assert fig["RejectedByReason"] == {"Unauthorized": 2}
    assert fig["InstanceCount"] == 2
    assert wallarm["Queued"] == 4
    bridge = rows[("bridge", "bridge-test")]
    assert (bridge["Received"], bridge["Queued"], bridge["InstanceCount"]) == (5, 4, 2)
    assert (bridge["QueueDepth"], bridge["DeadLetterCount"]) == (2, 1)
    assert bridge["OldestQueuedAgeSeconds"] >= 0
    assert bridge["WindowStart"].startswith(window.strftime("%Y-%m-%dT%H:%M:%S"))
    assert emulators.ingestion.errors() == []


def test_a_failed_send_leaves_the_windows_to_the_next_run(
    wiring: Wiring, window: datetime, emulators: EmulatorStack
) -> None:
    """Ingestion answers 503: nothing is marked; the next run sends the same window."""
    counters, flusher = process(wiring, "p1", window)
    counters.count("fig", metrics.RECEIVED)
    asyncio.run(flusher.flush())
    now = window + WINDOW + timedelta(seconds=90)
    emulators.ingestion.faults.add(Fault(status=503, times=1))

    failed = run(wiring, now)

    assert (failed.sent, landed(emulators)) == (False, [])
    [stored] = asyncio.run(wiring.health_table.windows(before=window + WINDOW))
    assert stored.marker is None
    retried = run(wiring, now + timedelta(minutes=5))
    assert retried.sent
    assert {r["Name"] for r in landed(emulators)} == {"fig", "bridge-test"}
    assert emulators.ingestion.errors() == []


def test_a_rerun_sends_nothing_twice(
    wiring: Wiring, window: datetime, emulators: EmulatorStack
) -> None:
    """The same run again finds the windows reported with the same totals: no second row."""
    counters, flusher = process(wiring, "p1", window)
    counters.count("fig", metrics.RECEIVED)
    asyncio.run(flusher.flush())
    now = window + WINDOW + timedelta(seconds=90)
    first = run(wiring, now)
    again = run(wiring, now + timedelta(seconds=30))
    assert (first.rows, again.rows, again.sent) == (2, 0, False)
    assert len(landed(emulators)) == 2


def test_a_late_flush_resends_the_whole_window_with_the_same_event_ids(
    wiring: Wiring, window: datetime, emulators: EmulatorStack
) -> None:
    """A process that flushed after the report: the window is re-sent summed, same EventIds."""
    first, first_flusher = process(wiring, "p1", window)
    first.count("fig", metrics.RECEIVED, 2)
    asyncio.run(first_flusher.flush())
    now = window + WINDOW + timedelta(seconds=90)
    run(wiring, now)
    late, late_flusher = process(wiring, "p2", window)
    late.count("fig", metrics.RECEIVED, 5)
    asyncio.run(late_flusher.flush())

    run(wiring, now + WINDOW)

    fig = [r for r in landed(emulators) if r["Name"] == "fig"]
    assert [r["Received"] for r in fig] == [2, 7]
    assert fig[0]["EventId"] == fig[1]["EventId"]
    assert fig[1]["ReportedTime"] > fig[0]["ReportedTime"]


def test_reported_windows_are_deleted_after_an_hour(wiring: Wiring, window: datetime) -> None:
    """Once reported and older than KEEP_REPORTED, a window's entities are gone."""
    counters, flusher = process(wiring, "p1", window)
    counters.count("fig", metrics.RECEIVED)
    asyncio.run(flusher.flush())
    now = window + WINDOW + timedelta(seconds=90)
    run(wiring, now)
    later = run(wiring, now + KEEP_REPORTED + WINDOW)
    assert later.deleted >= 1
    remaining = asyncio.run(wiring.health_table.windows(before=now + KEEP_REPORTED))
    assert window not in {w.start for w in remaining}


def test_the_timer_function_sends_a_heartbeat(
    emulators: EmulatorStack, app_env: dict[str, str]
) -> None:
    """With nothing counted, the timer still sends the newest window's bridge row."""
    suffix = uuid.uuid4().hex[:10]
    use_settings(
        WEBSITE_SITE_NAME="func-bridge-prod",
        HEALTH_TABLE_NAME=f"health{suffix}",
        RETRY_QUEUE_NAME=f"retries-{suffix}",
        DEAD_LETTER_CONTAINER=f"dead-{suffix}",
    )
    app = func.FunctionApp()
    app.register_functions(bridge_health_blueprint)
    [function] = app.get_functions()
    result = function.get_user_function()(TimerRequest(past_due=False))
    asyncio.run(result)
    [row] = landed(emulators)
    assert (row["Kind"], row["Name"], row["Received"]) == ("bridge", "func-bridge-prod", 0)
    assert (row["QueueDepth"], row["DeadLetterCount"]) == (0, 0)
    assert "OldestQueuedAgeSeconds" not in row or row["OldestQueuedAgeSeconds"] is None
    assert emulators.ingestion.errors() == []


def test_health_summary_shows_queue_depth_and_dead_letters(wiring: Wiring) -> None:
    """GET /api/health's storage part: the queue depth, its oldest age, the dead letters."""
    asyncio.run(wiring.retry_queue.enqueue(envelope()))
    asyncio.run(wiring.dead_letters.put(envelope(), reason="gone"))
    summary = asyncio.run(
        health_summary(wiring.retry_queue, wiring.dead_letters, now=datetime.now(UTC))
    )
    assert summary["retryQueue"]["depth"] == 1
    assert summary["retryQueue"]["oldestQueuedAgeSeconds"] >= 0
    assert summary["deadLetters"] == {"count": 1}


def test_counting_never_fails_while_the_table_is_unreachable() -> None:
    """Storage refusing connections: poke raises nothing, and the counts stay pending."""
    dead = (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT_NAME};AccountKey={ACCOUNT_KEY};"
        f"TableEndpoint=http://127.0.0.1:{free_port()}/{ACCOUNT_NAME};"
    )
    client = TableClient.from_connection_string(
        dead, "bridgehealth", retry_total=0, connection_timeout=2, read_timeout=2
    )
    table = HealthTable(client)

    async def webhook() -> Counters:
        waiting = asyncio.Event()

        async def sleep(seconds: float) -> None:  # the write failed: park before the retry
            waiting.set()
            await asyncio.Event().wait()

        counters = Counters("p1")
        flusher = Flusher(counters, table, sleep=sleep)
        counters.count("fig", metrics.RECEIVED)
        flusher.poke()
        await waiting.wait()
        await flusher.close()
        return counters

    counters = asyncio.run(webhook())
    assert [w.counts for w in counters.pending()] == [{("source", "fig", "received"): 1}]
