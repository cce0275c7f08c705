"""The one JSON serialisation the delivery core measures and sends.

Compact (no spaces), UTF-8, and strict: ``NaN`` and ``Infinity`` are not JSON and the
service would reject the whole request, so they raise here instead. Text is written as
UTF-8 rather than ``\\uXXXX`` escapes (smaller before compression), except when a string
holds a lone surrogate, which UTF-8 cannot carry: that value falls back to ASCII escapes,
which ``json.loads`` turns back into the same string.
"""

from __future__ import annotations

import json
from typing import Any

_SEPARATORS = (",", ":")
# Built once: json.dumps with any non-default option builds a new encoder on every call,
# which costs more than encoding a small row.
_UTF8 = json.JSONEncoder(ensure_ascii=False, separators=_SEPARATORS, allow_nan=False)
_ASCII = json.JSONEncoder(ensure_ascii=True, separators=_SEPARATORS, allow_nan=False)


def compact_json(value: Any) -> str:
    """``value`` as compact JSON text that is always encodable as UTF-8.

    Raises:
        TypeError: ``value`` holds something JSON cannot represent (e.g. a datetime).
        ValueError: ``value`` holds NaN or an infinity.
    """
    return compact_json_bytes(value).decode("utf-8")


def compact_json_bytes(value: Any) -> bytes:
    """``compact_json(value)`` encoded as UTF-8: the bytes that go on the wire.

    Raises:
        TypeError: ``value`` holds something JSON cannot represent (e.g. a datetime).
        ValueError: ``value`` holds NaN or an infinity.
    """
    text = _UTF8.encode(value)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: escape everything non-ASCII instead
        return _ASCII.encode(value).encode("ascii")
