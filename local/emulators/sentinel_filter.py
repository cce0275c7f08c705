"""The OData ``$filter`` and ``$orderby`` subset the Sentinel emulator understands.

The service documents ``$filter`` only as "a Boolean condition". This module accepts exactly
the forms peers are seen sending (reference: sentinel-incidents.md section 2) and refuses
everything else with :class:`FilterError`, so the app cannot lean on a filter the emulator
would silently ignore:

- ``properties/status eq|ne 'New'``, ``properties/severity eq|ne 'High'``
- ``properties/createdTimeUtc`` and ``properties/lastModifiedTimeUtc`` with ``gt ge lt le``
  against an ISO-8601 datetime, bare (``2024-01-01T00:00:00Z``) or quoted
- ``properties/incidentNumber`` with ``eq gt ge lt le`` and an integer (XSOAR's form)
- ``properties/labels/any(v: v/labelName eq 'X')`` with any lambda variable name
- ``and`` / ``or`` (``and`` binds tighter) and parentheses

Assumptions: operators and field names are case-sensitive (lower-case operators, camelCase
fields, as OData writes them); string comparisons are exact and case-sensitive (the MS
ServiceNow app documents its scope label as case-sensitive); a datetime without an offset
is UTC. Whether ``ne``/``lt``/``le`` work on the real service is not confirmed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

Predicate = Callable[[Mapping[str, Any]], bool]
SortKey = tuple[str, bool]  # (property name, descending)

_DATETIME = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?"
_TOKEN = re.compile(
    rf"""\s*(?:
        (?P<string>'(?:[^']|'')*')
      | (?P<datetime>{_DATETIME})
      | (?P<number>-?\d+)
      | (?P<punct>[():])
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*(?:/[A-Za-z_][A-Za-z0-9_]*)*)
    )""",
    re.VERBOSE,
)
_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?$",
    re.IGNORECASE,
)
_STRING_FIELDS = {"properties/status": "status", "properties/severity": "severity"}
_TIME_FIELDS = {
    "properties/createdTimeUtc": "createdTimeUtc",
    "properties/lastModifiedTimeUtc": "lastModifiedTimeUtc",
}
_NUMBER_FIELD = "properties/incidentNumber"
_LABELS_ANY = "properties/labels/any"
_ORDERABLE = {
    "properties/createdTimeUtc": "createdTimeUtc",
    "properties/lastModifiedTimeUtc": "lastModifiedTimeUtc",
    "properties/incidentNumber": "incidentNumber",
}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
}


class FilterError(ValueError):
    """A ``$filter`` or ``$orderby`` outside the supported subset (the emulator answers 400)."""


def parse_utc(text: str) -> datetime:
    """Parse an ISO-8601 datetime (any number of fractional digits) into an aware UTC value.

    Args:
        text: e.g. ``2024-01-01T10:00:00.1234567Z`` or ``2024-01-01T12:00:00+02:00``.

    Returns:
        The instant, truncated to microseconds.

    Raises:
        FilterError: The text is not such a datetime.
    """
    match = _ISO.match(text.strip())
    if match is None:
        raise FilterError(f"not an ISO-8601 datetime: {text!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    offset = "+00:00" if zone is None or zone.upper() == "Z" else zone
    try:
        return datetime.fromisoformat(
            f"{year}-{month}-{day}T{hour}:{minute}:{second or '00'}.{micros:06d}{offset}"
        ).astimezone(UTC)
    except ValueError as exc:
        raise FilterError(f"not a valid datetime: {text!r}") from exc


def format_utc(instant: datetime) -> str:
    """Format like the service's timestamps, with 7 fractional digits and ``Z``.

    Assumption: incidents carry .NET-style 7-digit fractions like alerts do (the reference's
    incident examples show whole seconds; its alert examples show 7 digits).
    """
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.lastgroup is None:
            raise FilterError(f"unexpected character at {position}: {text[position:][:20]!r}")
        tokens.append(_Token(match.lastgroup, match.group(match.lastgroup)))
        position = match.end()
    return tokens


class _Parser:
    """Recursive descent over the tokens: or_expr := and_expr ("or" and_expr)*."""

    def __init__(self, text: str) -> None:
        self._tokens = _tokenize(text)
        self._index = 0

    def parse(self) -> Predicate:
        if not self._tokens:
            raise FilterError("empty $filter")
        predicate = self._or()
        if self._index != len(self._tokens):
            raise FilterError(f"unexpected {self._peek().text!r}")
        return predicate

    def _peek(self) -> _Token:
        if self._index >= len(self._tokens):
            raise FilterError("the $filter ends too early")
        return self._tokens[self._index]

    def _take(self, kind: str, text: str | None = None) -> _Token:
        token = self._peek()
        if token.kind != kind or (text is not None and token.text != text):
            raise FilterError(f"expected {text or kind}, found {token.text!r}")
        self._index += 1
        return token

    def _at_word(self, word: str) -> bool:
        return (
            self._index < len(self._tokens)
            and self._tokens[self._index].kind == "word"
            and self._tokens[self._index].text == word
        )

    def _or(self) -> Predicate:
        parts = [self._and()]
        while self._at_word("or"):
            self._index += 1
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else lambda p: any(part(p) for part in parts)

    def _and(self) -> Predicate:
        parts = [self._primary()]
        while self._at_word("and"):
            self._index += 1
            parts.append(self._primary())
        return parts[0] if len(parts) == 1 else lambda p: all(part(p) for part in parts)

    def _primary(self) -> Predicate:
        token = self._peek()
        if token.kind == "punct" and token.text == "(":
            self._index += 1
            inner = self._or()
            self._take("punct", ")")
            return inner
        field = self._take("word").text
        if field == _LABELS_ANY:
            return self._labels_any()
        operator = self._take("word").text
        if operator not in _COMPARE:
            raise FilterError(f"unsupported operator {operator!r}")
        compare = _COMPARE[operator]
        if field in _STRING_FIELDS:
            return self._string_comparison(_STRING_FIELDS[field], operator, compare)
        if field in _TIME_FIELDS:
            return self._time_comparison(_TIME_FIELDS[field], operator, compare)
        if field == _NUMBER_FIELD:
            if operator == "ne":
                raise FilterError("incidentNumber supports eq, gt, ge, lt and le")
            number = int(self._take("number").text)
            return lambda p: (
                isinstance(p.get("incidentNumber"), int) and compare(p["incidentNumber"], number)
            )
        raise FilterError(f"unsupported field {field!r}")

    def _string_literal(self) -> str:
        return self._take("string").text[1:-1].replace("''", "'")

    def _string_comparison(
        self, name: str, operator: str, compare: Callable[[Any, Any], bool]
    ) -> Predicate:
        if operator not in ("eq", "ne"):
            raise FilterError(f"{name} supports eq and ne only")
        value = self._string_literal()
        return lambda p: compare(p.get(name), value)

    def _time_comparison(
        self, name: str, operator: str, compare: Callable[[Any, Any], bool]
    ) -> Predicate:
        if operator not in ("gt", "ge", "lt", "le"):
            raise FilterError(f"{name} supports gt, ge, lt and le only")
        token = self._peek()
        if token.kind == "datetime":
            self._index += 1
            bound = parse_utc(token.text)
        elif token.kind == "string":
            bound = parse_utc(self._string_literal())
        else:
            raise FilterError(f"expected a datetime, found {token.text!r}")

        def check(properties: Mapping[str, Any]) -> bool:
            value = properties.get(name)
            return isinstance(value, str) and compare(parse_utc(value), bound)

        return check

    def _labels_any(self) -> Predicate:
        self._take("punct", "(")
        variable = self._take("word").text
        if "/" in variable:
            raise FilterError("the any() lambda variable must be a plain name")
        self._take("punct", ":")
        self._take("word", f"{variable}/labelName")
        self._take("word", "eq")
        wanted = self._string_literal()
        self._take("punct", ")")

        def check(properties: Mapping[str, Any]) -> bool:
            labels = properties.get("labels") or []
            return any(
                isinstance(label, Mapping) and label.get("labelName") == wanted for label in labels
            )

        return check


def parse_filter(text: str) -> Predicate:
    """Compile a ``$filter`` into a predicate over an incident's ``properties`` object.

    Args:
        text: The ``$filter`` value, URL-decoded.

    Returns:
        A function answering whether an incident's properties match.

    Raises:
        FilterError: The expression is outside the supported subset.
    """
    return _Parser(text).parse()


def parse_orderby(text: str) -> list[SortKey]:
    """Read ``$orderby``: comma-separated ``properties/<field> [asc|desc]`` items.

    Args:
        text: The ``$orderby`` value, URL-decoded.

    Returns:
        ``(property name, descending)`` pairs, most significant first.

    Raises:
        FilterError: A field is not orderable or a direction is unknown.
    """
    keys: list[SortKey] = []
    for item in text.split(","):
        words = item.split()
        if not 1 <= len(words) <= 2 or words[0] not in _ORDERABLE:
            raise FilterError(f"unsupported $orderby item {item.strip()!r}")
        direction = words[1] if len(words) == 2 else "asc"
        if direction not in ("asc", "desc"):
            raise FilterError(f"unsupported $orderby direction {direction!r}")
        keys.append((_ORDERABLE[words[0]], direction == "desc"))
    return keys
