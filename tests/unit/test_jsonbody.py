"""Webhook bodies: strict JSON, and errors that never quote the body."""

from __future__ import annotations

import pytest

from shared.errors import MalformedPayload
from shared.inbound.jsonbody import parse_json, parse_json_object


@pytest.mark.parametrize(
    "body",
    [b"", b"   ", b"{", b"\xff\xfe{}", b'{"a": NaN}', b'{"a": Infinity}', b"[" * 100_000],
)
def test_not_json_is_malformed(body: bytes) -> None:
    """Empty, non-UTF-8, broken, NaN and absurdly nested bodies are all 400s."""
    with pytest.raises(MalformedPayload):
        parse_json(body)


@pytest.mark.parametrize("body", [b"[]", b"1", b'"text"', b"null"])
def test_only_objects_are_objects(body: bytes) -> None:
    """A route that takes one object refuses arrays and scalars."""
    with pytest.raises(MalformedPayload, match="JSON object"):
        parse_json_object(body)


def test_error_does_not_echo_the_body() -> None:
    """The parser's message, which quotes input, is not passed on."""
    with pytest.raises(MalformedPayload) as refused:
        parse_json(b'{"password": "hunter2"')
    assert "hunter2" not in refused.value.message


def test_byte_order_mark_is_tolerated() -> None:
    """A UTF-8 BOM (some .NET senders write one) is not an error."""
    assert parse_json_object(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}
