"""Parsing webhook bodies: strict JSON, clear errors, no values echoed back."""

from __future__ import annotations

import json
from typing import Any, NoReturn

from shared.errors import MalformedPayload


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
