"""Parsing webhook bodies: strict JSON, clear errors, no values echoed back."""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from typing import Any

from shared.errors import MalformedPayload, PayloadTooLarge
from shared.inbound.jsonguard import (
    check_depth,
    check_strings,
    check_text,
    finite_float,
    may_hold_surrogates,
    refuse_constant,
    unique_keys,
)

# One decoder for every body: the rules of ``shared.inbound.jsonguard``.
_DECODER = json.JSONDecoder(
    parse_constant=refuse_constant, parse_float=finite_float, object_pairs_hook=unique_keys
)


def parse_json(body: bytes) -> Any:
    """Parse a UTF-8 JSON body (a BOM is tolerated) under the rules of ``jsonguard``.

    Raises:
        MalformedPayload: empty, not UTF-8 or not JSON; or, as its subclasses, nested
            too deeply, holding a non-finite number, a lone surrogate or a duplicate key.
    """
    if not body.strip():
        raise MalformedPayload("The body is empty; expected JSON.")
    try:
        # "utf-8-sig" is a Python-level codec; a BOM is rare, so strip it here instead.
        text = (body[3:] if body.startswith(codecs.BOM_UTF8) else body).decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedPayload("The body is not UTF-8 text.") from None
    check_depth(body)  # before anything recursive runs
    try:
        document = _DECODER.decode(text)
    except MalformedPayload:
        raise
    except (ValueError, RecursionError):
        # json.JSONDecodeError is a ValueError; its message can quote the body, so drop it.
        raise MalformedPayload("The body is not valid JSON.") from None
    check_text(body, document)
    return document


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
        # "utf-8-sig" is a Python-level codec; a BOM is rare, so strip it here instead.
        text = (body[3:] if body.startswith(codecs.BOM_UTF8) else body).decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedPayload("The body is not UTF-8 text.") from None
    check_depth(body)  # one pass over the bytes, before anything recursive runs
    surrogates = may_hold_surrogates(body)  # once, not per element
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
            value, position = _DECODER.raw_decode(text, position)
        except MalformedPayload:
            raise
        except (ValueError, RecursionError):
            raise MalformedPayload("The body is not valid JSON.") from None
        if surrogates:
            check_strings(value)
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
