"""Standard-Webhooks-signed sources: INGEST_SOURCES, routing, rows, replay memory."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest

from shared.bootstrap.sources import SourceCatalog, SourceMemory
from shared.config.ingest import IngestConfig
from shared.config.settings import Settings
from shared.errors import MalformedPayload, UnknownEventType, UnsupportedMediaType
from shared.inbound.request import InboundRequest
from shared.rows.schema import load_table
from shared.sources import ingest
from shared.sources.base import Parsed
from shared.sources.replay_guard import (
    DELIVERED,
    IN_FLIGHT,
    MemoryReplayLedger,
    ReplayMark,
    ReplayWindows,
    is_free,
)
from tests.payloads import raw
from tests.unit.test_intake import BASE_SETTINGS

_T = TypeVar("_T")
RECEIVED = datetime(2022, 11, 3, 20, 30, tzinfo=UTC)  # a few minutes after the spec's payload
CONFIG = {"acme": {"stream": "Custom-BridgeEvents", "secretNames": ["acme-2", "acme-1"]}}
SETTINGS = Settings.from_env({**BASE_SETTINGS, "INGEST_SOURCES": json.dumps(CONFIG)})


def bound(ledger: MemoryReplayLedger | None = None) -> ingest.IngestSource:
    config = SETTINGS.ingest.sources["acme"]
    chosen = ledger or MemoryReplayLedger()
    return ingest.IngestSource("acme", config, lambda: chosen)


def parse(
    source: ingest.IngestSource, body: bytes, msg_id: str = "msg_1", **headers: str
) -> Parsed:
    request = InboundRequest("POST", {"webhook-id": msg_id, **headers}, body, RECEIVED)
    return source.parse("acme", request)


def test_settings_read_ingest_sources() -> None:
    """INGEST_SOURCES becomes name -> stream and secret names (newest first)."""
    config = SETTINGS.ingest.sources["acme"]
    assert config == IngestConfig("Custom-BridgeEvents", ("acme-2", "acme-1"))
    assert config.table == "BridgeEvents_CL"
    assert Settings.from_env(BASE_SETTINGS).ingest.sources == {}


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("acme", "not valid JSON"),
        ("[]", "JSON object"),
        ('{"Acme!": {}}', "names are"),
        ('{"acme": "Custom-BridgeEvents"}', "must be"),
        ('{"acme": {"stream": "BridgeEvents", "secretNames": ["a"]}}', "Custom-<Table>"),
        ('{"acme": {"stream": "Custom-Nope", "secretNames": ["a"]}}', "Nope_CL.json"),
        ('{"acme": {"stream": "Custom-BridgeEvents", "secretNames": []}}', "secretNames"),
        ('{"acme": {"stream": "Custom-BridgeEvents", "secretNames": ["a_b"]}}', "secretNames"),
        ('{"acme": {"stream": "Custom-BridgeEvents", "secretName": ["a"]}}', "unknown key"),
    ],
)
def test_bad_ingest_sources_are_named_problems(value: str, fragment: str) -> None:
    """Each mistake in INGEST_SOURCES is named with the source and the key, and turns off
    only the ingest routes it touches: the settings themselves still load."""
    settings = Settings.from_env({**BASE_SETTINGS, "INGEST_SOURCES": value})
    broken = [problem for found in settings.ingest.broken.values() for problem in found]
    problems = [*settings.problems_of("ingest"), *broken]
    assert any(fragment in problem for problem in problems)
    assert settings.ingest.sources == {}


def test_one_bad_entry_leaves_the_others_served() -> None:
    """A stream with no schema file breaks its own entry only."""
    value = json.dumps({**CONFIG, "broken": {"stream": "Custom-Nope", "secretNames": ["b"]}})
    settings = Settings.from_env({**BASE_SETTINGS, "INGEST_SOURCES": value})
    assert set(settings.ingest.sources) == {"acme"}
    assert set(settings.ingest.broken) == {"broken"}
    assert settings.problems_of("ingest") == ()


def test_wallarm_header_setting_must_be_a_header_name() -> None:
    """WALLARM_TOKEN_HEADER is lower-cased, and a value with spaces turns Wallarm off."""
    assert SETTINGS.wallarm_token_header == "x-auth-token"
    settings = Settings.from_env({**BASE_SETTINGS, "WALLARM_TOKEN_HEADER": "X Auth"})
    assert "header name" in settings.problems_of("wallarm")[0]
    assert settings.problems_of("fig") == ()


@pytest.mark.parametrize("route", ["other", "ACME", "acme/x", "", "-acme"])
def test_unlisted_or_malformed_source_names_are_404(route: str) -> None:
    """Only sources listed in INGEST_SOURCES exist."""
    catalog = SourceCatalog(SETTINGS, SourceMemory.fresh(), MemoryReplayLedger)

    def listed() -> None:
        ingest.route_of(route).check_route(route)
        catalog.ingest(route)

    with pytest.raises(UnknownEventType):
        listed()


def test_spec_payload_becomes_a_bridge_events_row() -> None:
    """{type, timestamp, data}: type and time in their columns, the payload kept whole."""
    source = bound()
    [row] = parse(source, raw("standard_webhooks_payload.json")).rows
    assert source.table().stream == "Custom-BridgeEvents"
    assert (row["Source"], row["EventType"], row["WebhookId"]) == (
        "acme",
        "contact.created",
        "msg_1",
    )
    assert row["EventTime"] == row["TimeGenerated"] == "2022-11-03T20:26:10.344522Z"
    assert row["Payload"]["data"]["id"] == "1f81eb52-5198-4599-803e-771906343485"
    assert load_table("BridgeEvents_CL").shape_row(row) == row


def test_any_json_payload_is_kept_and_a_bad_timestamp_is_ignored() -> None:
    """An array, or an object with an unusable timestamp, still lands; the receive time rules."""
    [row] = parse(bound(), b"[1, 2]").rows
    assert row["Payload"] == [1, 2]
    assert "EventType" not in row
    [row] = parse(bound(), b'{"timestamp": "yesterday", "type": 7}').rows
    assert row["TimeGenerated"] == row["ReceivedTime"]
    assert "EventType" not in row


def test_event_id_is_the_message_id() -> None:
    """The sender's retry (same webhook-id) has the same EventId; another message does not."""
    one = parse(bound(), b"{}", "msg_1").rows[0]["EventId"]
    again = parse(bound(), b'{"a": 1}', "msg_1").rows[0]["EventId"]
    other = parse(bound(), b"{}", "msg_2").rows[0]["EventId"]
    assert one == again != other


async def awaited(hook: Callable[[], Awaitable[_T]]) -> _T:
    return await hook()


def claimed(parsed: Parsed) -> bool:
    assert parsed.claim is not None
    return asyncio.run(awaited(parsed.claim))


def finish(parsed: Parsed, *, accepted: bool) -> None:
    assert parsed.on_accepted is not None
    assert parsed.on_finished is not None
    if accepted:
        asyncio.run(awaited(parsed.on_accepted))
    asyncio.run(awaited(parsed.on_finished))


def test_a_message_in_flight_is_a_duplicate_and_a_failed_one_is_released() -> None:
    """While one copy is in flight others are not claimed; a delivery that failed (finished
    without acceptance) frees the id, so the sender's retry is claimed."""
    source = bound()
    first = parse(source, b"{}")
    assert len(first.rows) == 1
    assert claimed(first)
    assert not claimed(parse(source, b"{}"))  # in flight: claimed before delivery
    finish(first, accepted=False)  # the delivery failed (503): released
    retry = parse(source, b"{}")
    assert claimed(retry)
    finish(retry, accepted=True)  # after acceptance, finishing keeps it
    assert not claimed(parse(source, b"{}"))
    assert claimed(parse(source, b"{}", "msg_2"))


def test_a_duplicates_finish_leaves_the_claim_it_did_not_make() -> None:
    """A copy that lost the claim releases nothing when its request ends."""
    ledger = MemoryReplayLedger()
    source = bound(ledger)
    first, copy = parse(source, b"{}"), parse(source, b"{}")
    assert claimed(first)
    assert not claimed(copy)
    finish(copy, accepted=False)
    assert ledger.mark(("acme", "msg_1")) == ReplayMark(IN_FLIGHT, RECEIVED)


def test_a_body_refused_at_parse_claims_nothing() -> None:
    """A 400 for the body leaves the id free: the fixed message can still be sent."""
    source = bound()
    with pytest.raises(MalformedPayload):
        parse(source, b'{"a": 1e400}')
    assert claimed(parse(source, b"{}"))


def test_only_one_of_many_concurrent_claims_wins() -> None:
    """claim is atomic: 20 claims racing for one id, exactly one wins."""
    ledger = MemoryReplayLedger()

    async def race() -> list[str | None]:
        claims = [ledger.claim(("acme", "m"), RECEIVED) for _ in range(20)]
        return list(await asyncio.gather(*claims))

    tokens = asyncio.run(race())
    assert sum(token is not None for token in tokens) == 1


WINDOWS = ReplayWindows(delivered=timedelta(minutes=10), in_flight=timedelta(seconds=240))


@pytest.mark.parametrize(
    ("mark", "age", "free"),
    [
        (None, timedelta(0), True),
        (DELIVERED, timedelta(minutes=10), False),
        (DELIVERED, timedelta(minutes=10, seconds=1), True),
        (IN_FLIGHT, timedelta(seconds=240), False),
        (IN_FLIGHT, timedelta(seconds=241), True),
        (DELIVERED, -timedelta(minutes=30), False),  # stamped by a clock running ahead
    ],
)
def test_a_mark_holds_its_id_for_its_window(mark: str | None, age: timedelta, free: bool) -> None:
    """Delivered ids hold for the replay window, claims in flight for the in-flight one."""
    held = None if mark is None else ReplayMark(mark, RECEIVED)
    assert is_free(held, RECEIVED + age, WINDOWS) is free


def test_an_expired_mark_is_claimed_again_relative_to_the_injected_time() -> None:
    """A kept id is a duplicate within the window and free after it (times are the
    requests' receive times, not the wall clock)."""
    ledger = MemoryReplayLedger(windows=WINDOWS)
    key = ("acme", "m")
    token = asyncio.run(ledger.claim(key, RECEIVED))
    assert token is not None
    asyncio.run(ledger.keep(key, token, RECEIVED))
    assert asyncio.run(ledger.claim(key, RECEIVED + timedelta(minutes=10))) is None
    assert asyncio.run(ledger.claim(key, RECEIVED + timedelta(minutes=11))) is not None


def test_memory_ledger_is_bounded_and_per_source() -> None:
    """The oldest ids go first when full; the same webhook-id from two sources is two."""
    ledger = MemoryReplayLedger(max_entries=2)
    for msg in "abc":
        asyncio.run(ledger.claim(("acme", msg), RECEIVED))
    assert [ledger.mark(("acme", k)) is not None for k in "abc"] == [False, True, True]
    assert asyncio.run(ledger.claim(("other", "c"), RECEIVED)) is not None


@pytest.mark.parametrize("body", [b"", b"{", b"NaN"])
def test_bodies_that_are_not_json_are_400(body: bytes) -> None:
    """The signed body must be JSON."""
    with pytest.raises(MalformedPayload):
        parse(bound(), body)


def test_form_content_type_is_415() -> None:
    """A form is not a JSON payload."""
    with pytest.raises(UnsupportedMediaType):
        parse(bound(), b"{}", **{"content-type": "application/x-www-form-urlencoded"})


def test_a_table_of_its_own_is_filled_by_column_name() -> None:
    """Bridge columns by role, the rest from data's fields of the same name; misfits are 400."""
    schema = load_table("WallarmEvents_CL")  # any table: the columns are what matter
    row = ingest.shape(
        schema,
        "acme",
        "msg_9",
        {"type": "t", "data": {"Summary": "hello", "Severity": "High", "Nope": 1}},
        RECEIVED,
    )
    assert (row["Summary"], row["Severity"], row["EventType"]) == ("hello", "High", "t")
    assert "Nope" not in row
    with pytest.raises(MalformedPayload, match="Summary"):
        ingest.shape(schema, "acme", "msg_9", {"data": {"Summary": 5}}, RECEIVED)
