"""The breaker's arithmetic: 60% of at least 10 deliveries over 12 hours, probes, admin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from shared.incidents.domain.breaker import Breaker, Gate, Transition, should_disable

NOW = datetime(2026, 11, 23, 12, 30, tzinfo=UTC)


def run(outcomes: list[bool], start: Breaker | None = None, at: datetime = NOW) -> Breaker:
    state = start or Breaker()
    for ok in outcomes:
        state, _ = state.record(ok, at)
    return state


def test_six_failures_in_ten_disable_five_do_not() -> None:
    """The threshold is inclusive: 60% disables, 50% does not."""
    assert run([True] * 4 + [False] * 6).disabled
    assert not run([True] * 5 + [False] * 5).disabled


def test_too_few_deliveries_never_disable() -> None:
    """Nine failures out of nine is not yet a pattern."""
    assert not run([False] * 9).disabled


def test_failures_older_than_twelve_hours_are_forgotten() -> None:
    """Yesterday's failures do not count against today's successes."""
    old = run([False] * 9, at=NOW - timedelta(hours=13))
    assert run([True, False], start=old).totals(NOW) == (1, 1)
    assert not run([True, False], start=old).disabled


def test_the_transition_is_reported_once() -> None:
    """DISABLED comes with the delivery that tipped it, then NONE."""
    state = run([False] * 9)
    state, first = state.record(False, NOW)
    _, second = state.record(False, NOW)
    assert (first, second) == (Transition.DISABLED, Transition.NONE)


def test_a_disabled_destination_lets_one_probe_through_every_half_hour() -> None:
    """Closed, then a probe after 30 minutes; a failed probe waits another 30."""
    state = run([False] * 10)
    assert state.gate(NOW + timedelta(minutes=29)) is Gate.CLOSED
    probe_at = NOW + timedelta(minutes=30)
    assert state.gate(probe_at) is Gate.PROBE
    failed, _ = state.record(False, probe_at)
    assert failed.gate(probe_at + timedelta(minutes=29)) is Gate.CLOSED
    assert failed.gate(probe_at + timedelta(minutes=30)) is Gate.PROBE


def test_a_successful_probe_enables_and_an_admin_forgets() -> None:
    """The probe's success re-enables; enabled() also clears the counts."""
    state = run([False] * 10)
    enabled, transition = state.record(True, NOW + timedelta(minutes=30))
    assert (enabled.disabled, transition) == (False, Transition.ENABLED)
    assert state.enabled() == Breaker()


@given(st.integers(0, 200), st.integers(0, 200))
def test_should_disable_is_the_ratio_rule(delivered: int, failed: int) -> None:
    """Disabled exactly when total >= 10 and failed/total >= 0.6."""
    total = delivered + failed
    assert should_disable(delivered, failed) == (total >= 10 and failed * 5 >= total * 3)
