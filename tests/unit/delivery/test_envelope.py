"""Retry-queue messages: round trips, strict decoding, retries, and the 64 KiB limit."""

from __future__ import annotations

import base64
import contextlib
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.delivery import (
    MAX_QUEUE_TEXT_BYTES,
    BlobPointer,
    Envelope,
    decode_message,
    fits_in_queue_message,
    short_error,
)
from shared.delivery._json import compact_json
from shared.errors import EnvelopeError, Undeliverable
from tests.unit.delivery.strategies import json_values, rows

pytestmark = pytest.mark.disable_socket

ID = "0b7c8a52-3f7e-4c43-9d1e-4b0f3a6c2e11"
T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def envelope(**changes: Any) -> Envelope:
    """A valid envelope with rows, changed as asked."""
    fields: dict[str, Any] = {
        "id": ID,
        "target": "sentinel:Custom-FigEvents",
        "source": "fig",
        "first_seen": T0,
        "rows": [{"EventId": "abc", "Count": 1}],
    }
    return Envelope(**(fields | changes))


ENVELOPE_KEYS = "v kind id target source rows payload attempt first_seen last_error last_status"

zones = st.builds(
    lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-23 * 60, 23 * 60)
)
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=zones
)
envelopes = st.builds(
    Envelope,
    id=st.uuids().map(str),
    target=st.sampled_from(["sentinel:Custom-FigEvents", "signl4:oncall", "webhook:a.b-c_d"]),
    source=st.from_regex(r"[a-z0-9][a-z0-9_-]{0,20}", fullmatch=True),
    first_seen=moments,
    attempt=st.integers(0, 10_000),
    last_error=st.none() | st.text(max_size=400).map(short_error),
    last_status=st.none() | st.integers(100, 599),
    rows=st.lists(rows, max_size=4),
) | st.builds(
    Envelope,
    id=st.uuids().map(str),
    target=st.just("webhook:x"),
    source=st.just("fig"),
    first_seen=moments,
    payload=st.dictionaries(st.text(max_size=5), json_values, max_size=4),
)


@settings(max_examples=150)
@given(original=envelopes)
def test_encode_decode_round_trips(original: Envelope) -> None:
    """Every valid envelope, with rows or a payload, decodes to an equal envelope."""
    text = original.encode()
    assert Envelope.decode(text) == original
    assert decode_message(text) == original
    assert Envelope.decode(text.encode("utf-8")) == original
    assert json.loads(text)["v"] == 1
    assert text == compact_json(json.loads(text)), "compact JSON, no spaces"


@settings(max_examples=300)
@given(text=st.text(max_size=200) | st.binary(max_size=200))
def test_arbitrary_input_fails_only_with_envelope_error(text: str | bytes) -> None:
    """Whatever arrives, decoding either succeeds or raises EnvelopeError."""
    with contextlib.suppress(EnvelopeError):
        decode_message(text)


@given(document=st.dictionaries(st.sampled_from(ENVELOPE_KEYS.split()), json_values))
def test_arbitrary_documents_fail_only_with_envelope_error(document: dict[str, Any]) -> None:
    """Wrong types in known fields are refused as EnvelopeError, never another error."""
    valid = json.loads(envelope().encode())
    with contextlib.suppress(EnvelopeError):
        decode_message(json.dumps(valid | document))


def mutated(**changes: Any) -> str:
    """A valid envelope's JSON with fields replaced (or removed when the value is ...)."""
    document = json.loads(envelope().encode())
    for key, value in changes.items():
        if value is ...:
            document.pop(key)
        else:
            document[key] = value
    return json.dumps(document)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not JSON text"),
        ("{", "not JSON text"),
        (b"\xff\xfe\xfa", "not JSON text"),
        ("[1]", "not a JSON object"),
        ("[" * 100_000, "not JSON text"),
        (mutated(v=2), "unsupported message version 2"),
        (mutated(v=True), "unsupported message version True"),
        (mutated(v=...), "unsupported message version None"),
        (mutated(kind="other"), "kind is not 'envelope'"),
        (mutated(extra=1), "unknown fields: extra"),
        (mutated(id="not-a-uuid"), "id is not a UUID"),
        (mutated(id=ID.upper()), "lower-case, hyphenated UUID"),
        (mutated(id=7), "id must be a string"),
        (mutated(target="Custom-FigEvents"), "target is not <kind>:<name>"),
        (mutated(source="Fig!"), "source is not a source name"),
        (mutated(rows=...), "need rows or payload, not both"),
        (mutated(payload={"a": 1}), "need rows or payload, not both"),
        (mutated(rows={"a": 1}), "rows must be a list"),
        (mutated(rows=[1]), "rows must be objects"),
        (mutated(rows=..., payload=[1]), "payload must be an object"),
        (mutated(attempt=-1), "attempt must be an int >= 0"),
        (mutated(attempt=True), "attempt must be an int >= 0"),
        (mutated(attempt=...), "attempt must be an int >= 0"),
        (mutated(first_seen="yesterday"), "first_seen is not an ISO-8601 time"),
        (mutated(first_seen=5), "first_seen must be a string"),
        (mutated(first_seen="2026-11-23T12:00:00"), "first_seen must be timezone-aware"),
        (mutated(first_seen="0001-01-01T00:00:00+01:00"), "out of range"),
        (mutated(last_error="two\nlines"), "last_error must be short, on one line"),
        (mutated(last_error="x" * 301), "last_error must be short, on one line"),
        (mutated(last_status=200.0), "last_status must be HTTP"),
        (mutated(last_status=600), "last_status must be HTTP"),
        ('{"v":1,"kind":"envelope","rows":[NaN]}', "not JSON text"),
    ],
)
def test_malformed_messages_are_refused_clearly(text: str | bytes, message: str) -> None:
    """Each kind of damage is an EnvelopeError (undeliverable) that says what is wrong."""
    with pytest.raises(EnvelopeError, match=message):
        decode_message(text)
    assert issubclass(EnvelopeError, Undeliverable)  # dead-lettered, never retried


def test_next_attempt_counts_and_records_the_failure() -> None:
    """A retry keeps id, rows and first_seen, counts up and remembers the last error."""
    first = envelope()
    second = first.next_attempt("IngestionFailed: 503\nfrom upstream", 503)
    third = second.next_attempt("ServiceRequestError", None)
    assert (second.attempt, second.last_error, second.last_status) == (
        1,
        "IngestionFailed: 503 from upstream",
        503,
    )
    assert (third.attempt, third.last_error, third.last_status) == (2, "ServiceRequestError", None)
    assert (third.id, third.rows, third.first_seen) == (first.id, first.rows, first.first_seen)


def test_long_errors_are_shortened() -> None:
    """last_error stays at 300 characters, ending in an ellipsis when cut."""
    error = envelope().next_attempt("e" * 1_000, 500).last_error
    assert error is not None
    assert len(error) == 300
    assert error.endswith("e…")


def test_age_counts_from_first_seen() -> None:
    """Age is now minus first_seen, in any time zone, and needs an aware now."""
    item = envelope(first_seen=T0.astimezone(timezone(timedelta(hours=-5))))
    assert item.first_seen.tzinfo is UTC
    assert item.age(T0 + timedelta(hours=3)) == timedelta(hours=3)
    with pytest.raises(ValueError, match="timezone-aware"):
        item.age(datetime(2026, 11, 23, 15, 0))


def test_construction_checks_fields_too() -> None:
    """Building an invalid envelope in code fails the same way decoding does."""
    with pytest.raises(EnvelopeError, match="first_seen must be timezone-aware"):
        envelope(first_seen=datetime(2026, 11, 23))
    with pytest.raises(EnvelopeError, match="first_seen must be a datetime"):
        envelope(first_seen="2026-11-23T12:00:00Z")


POINTER = BlobPointer(
    container="retry-envelopes",
    blob=f"2026/11/23/{ID}.json",
    envelope_id=ID,
    target="sentinel:Custom-FigEvents",
)


def test_pointer_round_trips_and_is_told_apart() -> None:
    """A pointer decodes to an equal pointer, and decode_message returns the right kind."""
    text = POINTER.encode()
    assert json.loads(text)["kind"] == "pointer"
    assert BlobPointer.decode(text) == POINTER
    assert decode_message(text) == POINTER
    assert isinstance(decode_message(envelope().encode()), Envelope)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"container": "Retry"}, "container is not a container name"),
        ({"container": "ab"}, "container is not a container name"),
        ({"container": "a--b"}, "container is not a container name"),
        ({"blob": ""}, "blob is not a blob name"),
        ({"blob": "a\nb"}, "blob is not a blob name"),
        ({"blob": "b" * 1_025}, "blob is not a blob name"),
        ({"envelope_id": "x"}, "envelope_id is not a UUID"),
        ({"target": "nowhere"}, "target is not <kind>:<name>"),
        ({"extra": 1}, "unknown fields: extra"),
    ],
)
def test_bad_pointers_are_refused(changes: dict[str, Any], message: str) -> None:
    """Pointers are checked like envelopes: names, id and target."""
    document = json.loads(POINTER.encode()) | changes
    with pytest.raises(EnvelopeError, match=message):
        decode_message(json.dumps(document))


def test_an_envelope_is_not_a_pointer() -> None:
    """Decoding the wrong kind on purpose is refused."""
    with pytest.raises(EnvelopeError, match="kind is not 'pointer'"):
        BlobPointer.decode(envelope().encode())


@pytest.mark.parametrize(
    ("text", "fits"),
    [
        ("a" * 49_152, True),
        ("a" * 49_153, False),
        ("é" * 24_576, True),  # 49,152 bytes of UTF-8
        ("é" * 24_576 + "a", False),
        ("\ud800", False),  # UTF-8 cannot carry it at all
    ],
)
def test_queue_limit_is_64_kib_of_base64(text: str, fits: bool) -> None:
    """The text fits when its UTF-8 is at most 49,152 bytes: 65,536 once in base64."""
    assert MAX_QUEUE_TEXT_BYTES == 49_152
    assert fits_in_queue_message(text) is fits


@given(size=st.integers(48_000, 50_000), wide=st.booleans())
def test_fits_agrees_with_base64(size: int, wide: bool) -> None:
    """fits_in_queue_message is exactly 'base64 of the UTF-8 is at most 65,536 bytes'."""
    text = "é" * (size // 2) if wide else "a" * size
    encoded = base64.b64encode(text.encode("utf-8"))
    assert fits_in_queue_message(text) is (len(encoded) <= 65_536)


def test_real_envelopes_are_measured_after_encoding() -> None:
    """A small envelope fits; one carrying 60 KB of rows needs a blob pointer."""
    assert fits_in_queue_message(envelope().encode())
    big = envelope(rows=[{"Message": "x" * 60_000}])
    assert not fits_in_queue_message(big.encode())
