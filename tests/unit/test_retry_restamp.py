"""Re-stamping TimeGenerated on late rows: only rows the service would move are changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.rows.restamp import is_stale, restamp_rows
from shared.rows.timepolicy import ACCEPTED_FUTURE, ACCEPTED_PAST, utc_iso

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "stale"),
    [
        (utc_iso(NOW), False),
        (utc_iso(NOW - ACCEPTED_PAST), False),
        (utc_iso(NOW - ACCEPTED_PAST - timedelta(seconds=1)), True),
        (utc_iso(NOW + ACCEPTED_FUTURE), False),
        (utc_iso(NOW + ACCEPTED_FUTURE + timedelta(seconds=1)), True),
        ("2026-11-20T10:00:00.1234567Z", True),  # Fig's 7 fractional digits
        ("2026-11-23T10:00:00+02:00", False),
        ("2026-11-20T10:00:00", False),  # no offset: left for the service
        ("yesterday", False),
        (None, False),
        (1700000000, False),
    ],
)
def test_stale_means_outside_the_window_the_service_keeps(value: object, stale: bool) -> None:
    """Inside the narrowed window: kept; outside: stale; unreadable: not ours to judge."""
    assert is_stale(value, NOW) is stale


def test_only_stale_rows_are_copied_and_changed() -> None:
    """The fresh row is the same object; the stale one is a changed copy."""
    fresh = {"TimeGenerated": utc_iso(NOW), "EventTime": utc_iso(NOW)}
    old_time = utc_iso(NOW - timedelta(days=3))
    stale = {"TimeGenerated": old_time, "EventTime": old_time, "ReceivedTime": old_time}
    rows, late = restamp_rows([fresh, stale], NOW)
    assert late == 1
    assert rows[0] is fresh
    assert rows[1] == {
        "TimeGenerated": utc_iso(NOW),
        "EventTime": old_time,
        "ReceivedTime": old_time,
    }
    assert stale["TimeGenerated"] == old_time  # the input is not modified


@given(st.lists(st.integers(min_value=-10 * 24 * 60, max_value=10 * 24 * 60), max_size=20))
def test_after_restamping_no_row_is_stale(minutes: list[int]) -> None:
    """Whatever the times, every row sent is inside the window, and the count is right."""
    rows = [{"TimeGenerated": utc_iso(NOW + timedelta(minutes=m))} for m in minutes]
    restamped, late = restamp_rows(rows, NOW)
    assert not any(is_stale(r["TimeGenerated"], NOW) for r in restamped)
    assert late == sum(is_stale(r["TimeGenerated"], NOW) for r in rows)
    assert len(restamped) == len(rows)
