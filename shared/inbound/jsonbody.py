"""Parsing webhook bodies: strict JSON, clear errors, no values echoed back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, NoReturn

from shared.errors import MalformedPayload, PayloadTooLarge


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def parse_json(body: bytes) -> Any:
    """Parse a UTF-8 JSON body (a BOM is tolerated); NaN and Infinity are refused.

    Raises:
        MalformedPayload: empty, not UTF-8, not JSON, or nested too deeply to parse.
    """
    if not body.strip():
        raise MalformedPayload("The body is empty; expected JSON.")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MalformedPayload("The body is not UTF-8 text.") from None
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        # json.JSONDecodeError is a ValueError; its message can quote the body, so drop it.
        raise MalformedPayload("The body is not valid JSON.") from None


def parse_json_object(body: bytes) -> dict[str, Any]:
    """Parse a body that must be one JSON object."""
    document = parse_json(body)
    if not isinstance(document, dict):
        raise MalformedPayload("The body must be a JSON object.")
    return document


_WHITESPACE = " \t\n\r"


def array_items(body: bytes, *, limit: int) -> Iterator[Any]:
    """The elements of a body that is one JSON array, decoded one at a time.

    Memory stays bounded by ``limit`` elements: a body with more is refused when the
    element after the limit is reached, before the rest is decoded.

    Raises:
        MalformedPayload: not UTF-8, not a JSON array, or an element not JSON.
        PayloadTooLarge: more than ``limit`` elements (413, nothing ingested).
    """
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MalformedPayload("The body is not UTF-8 text.") from None
    decoder = json.JSONDecoder(parse_constant=_refuse_constant)
    position = _skip(text, 0)
    if text[position : position + 1] != "[":
        raise MalformedPayload("The body must be a JSON array.")
    if not text.rstrip(_WHITESPACE).endswith("]"):  # cut short: said before any element
        raise MalformedPayload("The body is not valid JSON.")
    position = _skip(text, position + 1)
    if text[position : position + 1] == "]":
        _end(text, position + 1)
        return
    count = 0
    while True:
        count += 1
        if count > limit:
            raise PayloadTooLarge(f"More than {limit} items in one request; send smaller batches.")
        try:
            value, position = decoder.raw_decode(text, position)
        except (ValueError, RecursionError):
            raise MalformedPayload("The body is not valid JSON.") from None
        yield value
        position = _skip(text, position)
        separator = text[position : position + 1]
        if separator == "]":
            _end(text, position + 1)
            return
        if separator != ",":
            raise MalformedPayload("The body is not valid JSON.")
        position = _skip(text, position + 1)


def _skip(text: str, position: int) -> int:
    while position < len(text) and text[position] in _WHITESPACE:
        position += 1
    return position


def _end(text: str, position: int) -> None:
    if _skip(text, position) != len(text):
        raise MalformedPayload("The body is not valid JSON.")
