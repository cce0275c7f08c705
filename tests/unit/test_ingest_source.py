"""Standard-Webhooks-signed sources: INGEST_SOURCES, routing, rows, replay memory."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from shared.auth.fig import FigSecretVerifier
from shared.bootstrap.sources import SourceCatalog, SourceMemory
from shared.config.ingest import IngestConfig
from shared.config.settings import Settings
from shared.errors import MalformedPayload, UnknownEventType, UnsupportedMediaType
from shared.inbound.request import InboundRequest
from shared.rows.schema import load_table
from shared.sources import ingest
from shared.sources.base import Parsed
from tests.payloads import raw
from tests.unit.test_intake import BASE_SETTINGS

RECEIVED = datetime(2022, 11, 3, 20, 30, tzinfo=UTC)  # a few minutes after the spec's payload
CONFIG = {"acme": {"stream": "Custom-BridgeEvents", "secretNames": ["acme-2", "acme-1"]}}
SETTINGS = Settings.from_env({**BASE_SETTINGS, "INGEST_SOURCES": json.dumps(CONFIG)})


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def bound(guard: ingest.ReplayGuard | None = None) -> ingest.IngestSource:
    config = SETTINGS.ingest.sources["acme"]
    return ingest.IngestSource("acme", config, guard or ingest.ReplayGuard())


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
    catalog = SourceCatalog(SETTINGS, SourceMemory(FigSecretVerifier(), ingest.ReplayGuard()))

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


def test_a_message_is_remembered_only_once_accepted() -> None:
    """Before on_accepted the same id gives a row again (a retry after 503); after, none."""
    source = bound(ingest.ReplayGuard())
    first = parse(source, b"{}")
    assert len(parse(source, b"{}").rows) == 1  # not yet accepted by Sentinel
    assert first.on_accepted is not None
    first.on_accepted()
    assert parse(source, b"{}").rows == []
    assert len(parse(source, b"{}", "msg_2").rows) == 1


def test_replay_memory_is_bounded_in_time_and_size() -> None:
    """Ids are forgotten after the window, and the oldest go first when full."""
    clock = Clock()
    guard = ingest.ReplayGuard(window_seconds=60, max_entries=2, monotonic=clock)
    guard.remember(("acme", "a"))
    guard.remember(("acme", "b"))
    guard.remember(("acme", "c"))
    assert [guard.seen(("acme", k)) for k in "abc"] == [False, True, True]
    clock.now += 61
    assert not guard.seen(("acme", "c"))


def test_memory_is_per_source() -> None:
    """The same webhook-id from two sources is two messages."""
    guard = ingest.ReplayGuard()
    guard.remember(("acme", "msg_1"))
    assert not guard.seen(("other", "msg_1"))


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
