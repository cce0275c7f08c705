"""Hostile JSON bodies (issue 11) as Hypothesis strategies, for every fuzzer in the suite.

Each shape once gave an empty 500: numbers that overflow to infinity, NaN and Infinity,
lone UTF-16 surrogates, nesting far past the parser's limit, and duplicate keys. Every
one must now be a 4xx, whatever route, credentials or position it arrives in.
"""

from __future__ import annotations

import json

from hypothesis import strategies as st

from shared.inbound.jsonguard import MAX_DEPTH

_FIELD = st.sampled_from(["Success", "id", "eventType", "alert", "message", "x"])
_NON_FINITE = st.sampled_from(
    [b"1e400", b"-1e400", b"NaN", b"Infinity", b"-Infinity", b"9" * 400 + b".0e9999"]
)
_SURROGATE = st.sampled_from([b'"\\ud800"', b'"\\uDFFF"', b'"a\\udbffb"', b'"\\ude00\\ud83d"'])


def _nested(depth: int, opener: bytes) -> bytes:
    if opener == b"[":
        return b"[" * depth + b"1" + b"]" * depth
    return b'{"k":' * depth + b"1" + b"}" * depth


_DEEP = st.builds(
    _nested, st.integers(min_value=MAX_DEPTH + 1, max_value=3000), st.sampled_from([b"[", b"{"])
)
_DUPLICATE = st.builds(
    lambda key, first, second: (
        b"{"
        + json.dumps(key).encode()
        + b":"
        + first
        + b","
        + json.dumps(key).encode()
        + b":"
        + second
        + b"}"
    ),
    _FIELD,
    st.sampled_from([b"false", b"1", b'"a"']),
    st.sampled_from([b"true", b"2", b'"b"']),
)
hostile_values = st.one_of(_NON_FINITE, _SURROGATE, _DEEP, _DUPLICATE)
"""One hostile JSON value, as bytes."""


def _in_object(field: str, value: bytes) -> bytes:
    return b'{"' + field.encode() + b'":' + value + b"}"


hostile_bodies = st.one_of(
    hostile_values,
    st.builds(_in_object, _FIELD, hostile_values),
    st.builds(lambda value: b"[" + value + b"]", hostile_values),
    st.builds(lambda value: b'{"a":1}\n' + _in_object("x", value), hostile_values),  # NDJSON
)
"""A whole body holding at least one hostile value: top level, in an object, an array or
the second line of NDJSON."""
