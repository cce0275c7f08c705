"""Parsing webhook bodies: strict JSON, clear errors, no values echoed back."""

from __future__ import annotations

import json
from typing import Any

from shared.errors import MalformedPayload
from shared.jsonguard import check_depth, check_text, finite_float, refuse_constant, unique_keys


def parse_json(body: bytes) -> Any:
    """Parse a UTF-8 JSON body (a BOM is tolerated) under the rules of ``shared.jsonguard``.

    Raises:
        MalformedPayload: empty, not UTF-8 or not JSON; or, as its subclasses, nested
            too deeply, holding a non-finite number, a lone surrogate or a duplicate key.
    """
    if not body.strip():
        raise MalformedPayload("The body is empty; expected JSON.")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MalformedPayload("The body is not UTF-8 text.") from None
    check_depth(body)  # before anything recursive runs
    try:
        document = json.loads(
            text,
            parse_constant=refuse_constant,
            parse_float=finite_float,
            object_pairs_hook=unique_keys,
        )
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
