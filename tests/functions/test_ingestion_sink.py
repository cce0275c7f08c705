"""The packing sink against the ingestion emulator: full requests, exact failures, big rows."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import os
from datetime import UTC, datetime
from typing import Any

import pytest

from local.emulators.faults import Fault
from local.emulators.stack import EmulatorStack
from shared.adapters.ingestion import LogsIngestionSink
from shared.bootstrap import root
from shared.delivery import sdk_default_stats
from shared.errors import IngestionFailed

pytestmark = pytest.mark.usefixtures("app_env")
STREAM = "Custom-FigEvents"


def sink() -> LogsIngestionSink:
    built = root().clients().sink
    assert isinstance(built, LogsIngestionSink)
    return built


def rows(count: int, *, detail_bytes: int = 600) -> list[dict[str, Any]]:
    # Relative to the clock in force: the service replaces a TimeGenerated over two days old.
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return [
        {
            "TimeGenerated": now,
            "EventId": f"{i:032x}",
            "EventType": "SecurityEvent",
            "Details": {"n": i, "text": os.urandom(detail_bytes // 2).hex()},
            "TruncatedColumns": [],
        }
        for i in range(count)
    ]


def test_a_burst_packs_into_full_requests(emulators: EmulatorStack) -> None:
    """2,000 rows arrive in full requests (far fewer than the SDK's chunking), all landed."""
    burst = rows(2000)
    asyncio.run(sink().send(STREAM, burst))
    stored = [r.row["EventId"] for r in emulators.ingestion.rows(STREAM)]
    assert stored == [row["EventId"] for row in burst]  # none lost, none reordered
    stats = emulators.ingestion.stats()["streams"][STREAM]
    assert stats["requests"] < sdk_default_stats(burst).requests
    assert stats["wire_bytes"] / stats["requests"] > 500_000  # requests are nearly full


def test_only_the_failed_request_is_reported(emulators: EmulatorStack) -> None:
    """The second of several requests is throttled: exactly its rows are refused."""
    burst = rows(3000)
    emulators.ingestion.faults.add(Fault(status=None, times=1))  # the first one goes through
    emulators.ingestion.faults.add(Fault(status=429, retry_after=4, times=1))
    with pytest.raises(IngestionFailed) as failed:
        asyncio.run(sink().send(STREAM, burst))
    stored = {r.row["EventId"] for r in emulators.ingestion.rows(STREAM)}
    refused = {row["EventId"] for row in failed.value.failed_rows}
    assert stored, "the first request landed"
    assert refused, "the second did not"
    assert stored.isdisjoint(refused)
    assert stored | refused == {row["EventId"] for row in burst}
    assert failed.value.retry_after == 4
    assert not failed.value.permanent


def test_a_field_over_64kb_is_cut_and_flagged(emulators: EmulatorStack) -> None:
    """A 100 KB message lands cut to the field limit, and TruncatedColumns names it."""
    row = {**rows(1)[0], "Message": "x" * 100_000}
    asyncio.run(sink().send(STREAM, [row]))
    (stored,) = emulators.ingestion.rows(STREAM)
    assert len(stored.row["Message"].encode()) <= 65_536
    assert stored.row["TruncatedColumns"] == ["Message"]
    assert emulators.ingestion.errors() == []  # the service had nothing to cut itself


def test_a_row_no_request_can_carry_is_refused_as_permanent(emulators: EmulatorStack) -> None:
    """A row over the request limit even gzipped is refused as permanent, with the reason.

    FigEvents_CL is too narrow for a fitted row to reach 1 MB, so the limit is lowered.
    """
    wired = sink()
    small = LogsIngestionSink(wired._client, wired._rule_id, max_body_bytes=50_000)
    noise = base64.b64encode(os.urandom(45_000)).decode()
    huge = {**rows(1)[0], "Message": noise, "UserName": noise}
    with pytest.raises(IngestionFailed) as failed:
        asyncio.run(small.send(STREAM, [rows(1)[0], huge]))
    assert failed.value.permanent
    assert [r.indices for r in failed.value.refused] == [(1,)]
    assert "gzipped" in failed.value.refused[0].reason
    assert len(emulators.ingestion.rows(STREAM)) == 1


def test_bodies_are_gzip_and_never_over_the_limit(emulators: EmulatorStack) -> None:
    """Every request the sink made was accepted: none hit the 1 MB limit."""
    asyncio.run(sink().send(STREAM, rows(4000, detail_bytes=1200)))
    assert emulators.ingestion.stats()["refused"] == {}
    assert len(emulators.ingestion.rows(STREAM)) == 4000


def test_gzip_round_trip_of_a_packed_body() -> None:
    """What the SDK is handed is one gzip member of a JSON array (sanity of the contract)."""
    from shared.delivery import pack

    body = pack(rows(3)).bodies[0].body
    assert body[:2] == b"\x1f\x8b"
    assert len(json.loads(gzip.decompress(body))) == 3
