"""Webhook bodies: strict JSON, and errors that never quote the body."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.errors import MalformedPayload, PayloadTooLarge
from shared.inbound.jsonbody import array_items, parse_json, parse_json_object

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)


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


@given(st.lists(_JSON, max_size=20), st.sampled_from(["", " ", "\n\t "]))
def test_array_items_give_back_the_array(values: list[Any], space: str) -> None:
    """Decoded one at a time, the elements are the array, whatever the whitespace."""
    body = json.dumps(values, separators=("," + space, ":")).replace("[", "[" + space, 1)
    assert list(array_items(body.encode(), limit=20)) == values


def test_array_items_stop_at_the_limit_before_reading_on() -> None:
    """The element after the limit is not decoded: broken JSON there is still a 413."""
    with pytest.raises(PayloadTooLarge):
        list(array_items(b'[1, 2, 3, {"broken": ]', limit=3))
    assert list(array_items(b"[1, 2, 3]", limit=3)) == [1, 2, 3]


@pytest.mark.parametrize(
    "body", [b"{}", b"[1, 2", b"[1 2]", b"[1,]", b"[1] x", b"[NaN]", b"\xff[1]", b""]
)
def test_array_items_refuse_what_is_not_one_array(body: bytes) -> None:
    """Not an array, unterminated, a missing comma, trailing text, NaN, not UTF-8: 400."""
    with pytest.raises(MalformedPayload):
        list(array_items(body, limit=10))
