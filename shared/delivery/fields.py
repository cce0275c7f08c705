"""Fitting a row to the service's per-field limit, and saying so in the row.

Log Analytics keeps at most 64 KB of a field and cuts the rest without telling anyone
(reference: logs-ingestion.md, section 2). The bridge cuts first, so it decides where
(on a character boundary, never inside a UTF-8 sequence) and records which columns were
cut in a flag column, so an analyst can find the rows whose evidence is incomplete::

    FigEvents_CL | where array_length(TruncatedColumns) > 0

What is measured is the *stored* value, which is what the service limits:

- a string column stores the string itself, so its UTF-8 length counts; JSON escaping
  (``\\"``, ``\\n``) only exists on the wire and needs no margin;
- a dynamic column (a dict or list) stores its JSON text, measured here as compact JSON
  (no spaces, UTF-8, as :mod:`shared.delivery._json` writes it). When that is over the
  limit the value becomes a *string*: its JSON text, cut like any other string. KQL's
  ``parse_json`` cannot read the cut text, but a person can, and nothing is silently lost
  beyond the limit the service imposes anyway.

Scalars (numbers, booleans, null) are far below any limit and pass through.

"64 KB" is read as 65,536 bytes, as the service's "1 MB" request limit turned out to be
1,048,576 bytes; a caller who wants a margin passes ``max_field_bytes=64_000``.

The flag column is always present, as ``[]`` when nothing was cut: a KQL filter then
needs no ``isnull`` case, and the column's type (``dynamic``) is the same on every row.
The table must declare it (``{"name": "TruncatedColumns", "type": "dynamic"}``), or the
service drops it silently. Names already in the flag column are kept, so fitting a row
twice gives the same row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.delivery._json import compact_json, compact_json_bytes

DEFAULT_MAX_FIELD_BYTES = 65_536
"""The service's 64 KB field limit, read as 64 KiB (see the module docstring)."""

DEFAULT_FLAG_COLUMN = "TruncatedColumns"

# A UTF-8 encoding takes at most 4 bytes per code point (3 for a surrogate, with
# "surrogatepass"): strings shorter than a quarter of the limit cannot be over it.
_MAX_UTF8_BYTES_PER_CHAR = 4


def fit_row(
    row: Mapping[str, Any],
    *,
    max_field_bytes: int = DEFAULT_MAX_FIELD_BYTES,
    flag_column: str = DEFAULT_FLAG_COLUMN,
) -> dict[str, Any]:
    """A copy of ``row`` whose every field fits the service's per-field limit.

    Args:
        row: the row, column name to value; it is not modified.
        max_field_bytes: the largest stored value, in bytes of UTF-8.
        flag_column: the column that lists, sorted, the names of the columns cut. It is
            always present in the result (``[]`` when nothing was cut) and never cut.

    Returns:
        A new dict: strings over the limit cut on a character boundary, dicts and lists
        over it replaced by their JSON text cut the same way, every other value as is.

    Raises:
        ValueError: ``max_field_bytes`` is not positive, ``row[flag_column]`` exists and
            is not a list of strings, or a dict or list holds NaN or an infinity.
        TypeError: a dict or list holds a value JSON cannot represent.
    """
    if max_field_bytes < 1:
        raise ValueError("max_field_bytes must be positive")
    cut: set[str] = set(_existing_flags(row, flag_column))
    fitted: dict[str, Any] = {}
    for name, value in row.items():
        if name == flag_column:
            continue
        if isinstance(value, str):
            short = truncate_utf8(value, max_field_bytes)
            if len(short) < len(value):
                cut.add(name)
            fitted[name] = short
        elif isinstance(value, Mapping | list | tuple):
            text = compact_json(value)
            if utf8_length(text) > max_field_bytes:
                fitted[name] = truncate_utf8(text, max_field_bytes)
                cut.add(name)
            else:
                fitted[name] = value
        else:
            fitted[name] = value
    fitted[flag_column] = sorted(cut)
    return fitted


def fit_row_encoded(
    row: Mapping[str, Any],
    *,
    max_field_bytes: int = DEFAULT_MAX_FIELD_BYTES,
    flag_column: str = DEFAULT_FLAG_COLUMN,
) -> tuple[Mapping[str, Any], bytes]:
    """``fit_row(row)`` and its compact JSON, which the packer sends.

    A row whose whole JSON is within ``max_field_bytes`` is encoded once and kept as it
    is (the row itself, not a copy: the packer copies what it keeps): every string's
    UTF-8 is no longer than its JSON text inside the row's, and every dict or list's
    compact JSON is a part of the row's, so no field can be over the limit. Only a larger
    row is walked field by field (and encoded again).

    Raises:
        ValueError, TypeError: as :func:`fit_row`.
    """
    flags = row.get(flag_column)
    # The flag column as fit_row leaves it (sorted, no repeats) is the one kept as it is.
    if isinstance(flags, list) and flags == sorted(set(_existing_flags(row, flag_column))):
        encoded = compact_json_bytes(row)
        if len(encoded) <= max_field_bytes:
            return row, encoded
    fitted = fit_row(row, max_field_bytes=max_field_bytes, flag_column=flag_column)
    return fitted, compact_json_bytes(fitted)


def truncate_utf8(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` of UTF-8, never inside a character.

    Returns ``text`` unchanged when it already fits; a cut result is always shorter.
    Lone surrogates count as the 3 bytes a ``surrogatepass`` encoding gives them.
    """
    if len(text) * _MAX_UTF8_BYTES_PER_CHAR <= max_bytes:
        return text
    encoded = text.encode("utf-8", "surrogatepass")
    if len(encoded) <= max_bytes:
        return text
    end = max_bytes
    # Back up over continuation bytes (0b10xxxxxx) to the start of the cut character.
    while end > 0 and encoded[end] & 0xC0 == 0x80:
        end -= 1
    return encoded[:end].decode("utf-8", "surrogatepass")


def utf8_length(text: str) -> int:
    """The length of ``text`` in UTF-8 (lone surrogates as 3 bytes)."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


def _existing_flags(row: Mapping[str, Any], flag_column: str) -> list[str]:
    existing = row.get(flag_column)
    if existing is None:
        return []
    if not isinstance(existing, list | tuple) or not all(isinstance(n, str) for n in existing):
        raise ValueError(f"column {flag_column!r} is reserved for a list of column names")
    return list(existing)
