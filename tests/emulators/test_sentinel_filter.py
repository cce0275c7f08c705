"""The $filter / $orderby subset of the Sentinel emulator, without a server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from local.emulators.sentinel_filter import (
    FilterError,
    format_utc,
    parse_filter,
    parse_orderby,
    parse_utc,
)

INCIDENT: dict[str, Any] = {
    "status": "New",
    "severity": "High",
    "createdTimeUtc": "2024-03-01T10:00:00.1234560Z",
    "lastModifiedTimeUtc": "2024-03-02T10:00:00Z",
    "incidentNumber": 42,
    "labels": [{"labelName": "snow", "labelType": "User"}, {"labelName": "O'Brien"}],
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("properties/status eq 'New'", True),
        ("properties/status eq 'Active'", False),
        ("properties/status ne 'Closed'", True),
        ("properties/severity eq 'High'", True),
        ("properties/severity eq 'high'", False),
        ("properties/createdTimeUtc gt 2024-03-01T10:00:00Z", True),
        ("properties/createdTimeUtc ge 2024-03-01T10:00:00.123456Z", True),
        ("properties/createdTimeUtc gt 2024-03-01T10:00:00.123456Z", False),
        ("properties/createdTimeUtc gt '2024-03-01T00:00:00Z'", True),
        ("properties/createdTimeUtc lt 2024-03-01T13:00:00+02:00", True),
        ("properties/lastModifiedTimeUtc ge 2024-03-02T10:00:00Z", True),
        ("properties/lastModifiedTimeUtc gt 2024-03-02T10:00:00.0000000Z", False),
        ("properties/lastModifiedTimeUtc le 2024-03-02T10:00", True),
        ("properties/incidentNumber gt 41", True),
        ("properties/incidentNumber gt 42", False),
        ("properties/labels/any(l: l/labelName eq 'snow')", True),
        ("properties/labels/any(i:i/labelName eq 'SNOW')", False),
        ("properties/labels/any(item: item/labelName eq 'O''Brien')", True),
        ("properties/status eq 'Active' or properties/severity eq 'High'", True),
        ("properties/status eq 'New' and properties/severity eq 'Low'", False),
        (
            "(properties/status eq 'New' or properties/status eq 'Active') and "
            "properties/labels/any(l: l/labelName eq 'snow')",
            True,
        ),
    ],
)
def test_supported_forms_evaluate(expression: str, expected: bool) -> None:
    """Each supported form compiles and answers as OData would."""
    assert parse_filter(expression)(INCIDENT) is expected


def test_and_binds_tighter_than_or() -> None:
    """a or b and c means a or (b and c)."""
    predicate = parse_filter(
        "properties/status eq 'New' or properties/severity eq 'Low' and properties/status eq 'X'"
    )
    assert predicate(INCIDENT) is True


@pytest.mark.parametrize(
    "expression",
    [
        "",
        "properties/title eq 'x'",
        "properties/status eq New",
        "properties/status gt 'New'",
        "properties/status EQ 'New'",
        "not properties/status eq 'New'",
        "properties/status eq 'New' and",
        "(properties/status eq 'New'",
        "properties/status eq 'New')",
        "properties/createdTimeUtc eq 2024-03-01T10:00:00Z",
        "properties/createdTimeUtc gt 'yesterday'",
        "properties/createdTimeUtc gt 2024-13-01T10:00:00Z",
        "properties/incidentNumber ne 4",
        "properties/incidentNumber gt '4'",
        "properties/labels/any(l: m/labelName eq 'x')",
        "properties/labels/any(l: l/labelType eq 'User')",
        "properties/labels/any(item: contains(toLower(item/labelName),'benign'))",
        "properties/status eq 'New' ; drop",
        "properties/Status eq 'New'",
    ],
)
def test_everything_else_is_refused(expression: str) -> None:
    """Expressions outside the subset raise FilterError instead of being ignored."""
    with pytest.raises(FilterError):
        parse_filter(expression)


def test_orderby_reads_fields_and_directions() -> None:
    """Items are comma-separated; the direction defaults to ascending."""
    keys = parse_orderby("properties/lastModifiedTimeUtc desc, properties/incidentNumber")
    assert keys == [("lastModifiedTimeUtc", True), ("incidentNumber", False)]


@pytest.mark.parametrize(
    "expression",
    ["properties/severity asc", "properties/createdTimeUtc up", "createdTimeUtc", ""],
)
def test_orderby_refuses_other_fields(expression: str) -> None:
    """Only the three time/number fields can be ordered by."""
    with pytest.raises(FilterError):
        parse_orderby(expression)


def test_datetimes_with_seven_digits_and_offsets_parse_to_utc() -> None:
    """.NET's 7 fractional digits are truncated to microseconds; offsets become UTC."""
    assert parse_utc("2024-03-01T10:00:00.1234567Z") == datetime(
        2024, 3, 1, 10, 0, 0, 123456, tzinfo=UTC
    )
    expected = datetime(2024, 3, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    assert parse_utc("2024-03-01T10:00:00Z") == expected


def test_format_round_trips_with_seven_digits() -> None:
    """format_utc writes 7 fractional digits and Z, and parse_utc reads it back."""
    instant = datetime(2024, 3, 1, 10, 0, 0, 5, tzinfo=UTC)
    text = format_utc(instant)
    assert text == "2024-03-01T10:00:00.0000050Z"
    assert parse_utc(text) == instant
