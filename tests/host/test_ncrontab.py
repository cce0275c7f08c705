"""The NCRONTAB parser and next_occurrence, without a clock or a host."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from local.host.ncrontab import ScheduleError, parse_schedule


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("*/15 * * * * *", "2026-11-23T12:00:07", "2026-11-23T12:00:15"),
        ("*/15 * * * * *", "2026-11-23T12:00:45", "2026-11-23T12:01:00"),
        ("0 */5 * * * *", "2026-11-23T12:03:00", "2026-11-23T12:05:00"),
        ("5/20 * * * * *", "2026-11-23T12:00:26", "2026-11-23T12:00:45"),
        ("1,2,5-7 * * * * *", "2026-11-23T12:00:02", "2026-11-23T12:00:05"),
        ("0 0 0 1 JAN *", "2026-11-23T12:00:00", "2027-01-01T00:00:00"),
        ("0 0 0 29 2 *", "2026-03-01T00:00:00", "2028-02-29T00:00:00"),
        ("0 30 9 * * MON-FRI", "2026-11-27T10:00:00", "2026-11-30T09:30:00"),
        ("0 0 12 * * 0", "2026-11-23T00:00:00", "2026-11-29T12:00:00"),
        ("0 0 12 * * sun", "2026-11-23T00:00:00", "2026-11-29T12:00:00"),
        ("0 0 12 * * Saturday", "2026-11-23T00:00:00", "2026-11-28T12:00:00"),
        ("0 0 0 1 jul-Aug *", "2026-11-23T00:00:00", "2027-07-01T00:00:00"),
        ("0 0 0 13 * FRI", "2026-11-23T00:00:00", "2027-08-13T00:00:00"),
        ("0 0 9-17/4 * * *", "2026-11-23T13:00:00", "2026-11-23T17:00:00"),
        ("0 0 0 * DEC *", "2026-12-31T00:00:00", "2027-12-01T00:00:00"),
    ],
)
def test_next_occurrence(expression: str, after: str, expected: str) -> None:
    """The next occurrence is the first matching second strictly after the given time."""
    assert parse_schedule(expression).next_occurrence(at(after)) == at(expected)


def test_an_exact_occurrence_is_not_returned_again() -> None:
    """Asking from an occurrence gives the one after it, so a timer never fires twice."""
    schedule = parse_schedule("0 * * * * *")
    assert schedule.next_occurrence(at("2026-11-23T12:00:00")) == at("2026-11-23T12:01:00")


def test_sub_seconds_are_dropped_and_tzinfo_kept() -> None:
    """Occurrences are whole seconds in the caller's timezone."""
    plus_two = timezone(timedelta(hours=2))
    after = datetime(2026, 11, 23, 12, 0, 0, 999_999, tzinfo=plus_two)
    result = parse_schedule("* * * * * *").next_occurrence(after)
    assert result == datetime(2026, 11, 23, 12, 0, 1, tzinfo=plus_two)


@pytest.mark.parametrize(
    "expression",
    [
        "* * * * *",
        "* * * * * * *",
        "60 * * * * *",
        "* * 24 * * *",
        "* * * 0 * *",
        "* * * * 13 *",
        "* * * * * 7",
        "5-1 * * * * *",
        "*/0 * * * * *",
        "x * * * * *",
        "* * * * FOO *",
        "²  * * * * *",
    ],
)
def test_invalid_expressions_are_rejected(expression: str) -> None:
    """Wrong field counts, out-of-range values, backwards ranges and junk raise ScheduleError."""
    with pytest.raises(ScheduleError):
        parse_schedule(expression)


def test_an_impossible_date_raises_instead_of_looping() -> None:
    """30 February never comes; the search gives up with an error."""
    with pytest.raises(ScheduleError, match="no occurrence"):
        parse_schedule("0 0 0 30 2 *").next_occurrence(at("2026-01-01T00:00:00"))


_values = st.sets(st.integers(min_value=0, max_value=59), min_size=1, max_size=6)


@settings(max_examples=40)
@given(
    seconds=_values,
    minutes=_values,
    after=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1)),
)
def test_no_occurrence_is_skipped(seconds: set[int], minutes: set[int], after: datetime) -> None:
    """The result matches, and no second between ``after`` and it matches."""
    expression = f"{','.join(map(str, seconds))} {','.join(map(str, minutes))} * * * *"
    schedule = parse_schedule(expression)
    start = after.replace(tzinfo=UTC)
    found = schedule.next_occurrence(start)
    assert found > start
    assert schedule.matches(found)
    moment = start.replace(microsecond=0) + timedelta(seconds=1)
    while moment < found:
        assert not schedule.matches(moment)
        moment += timedelta(seconds=1)
