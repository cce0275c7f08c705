"""The fault plan on its own: matching, counts, windows, JSON round trip."""

from __future__ import annotations

import pytest

from local.emulators.faults import Fault, FaultPlan
from tests.emulators.conftest import FakeClock


def test_times_limits_a_rule_to_the_next_n_matching_requests() -> None:
    """A rule with times=2 applies twice, then never again."""
    plan = FaultPlan(FakeClock())
    plan.add(Fault(status=503, times=2))
    picked = [plan.pick("POST", "/x") for _ in range(3)]
    assert [f.status if f else None for f in picked] == [503, 503, None]


def test_window_ends_when_the_clock_passes_it() -> None:
    """A for_seconds rule applies until its window has passed on the plan's clock."""
    clock = FakeClock()
    plan = FaultPlan(clock)
    plan.add(Fault(status=429, for_seconds=30))
    clock.advance(29.5)
    assert plan.pick("GET", "/a") is not None
    clock.advance(0.5)
    assert plan.pick("GET", "/a") is None
    assert plan.describe() == []


def test_only_matching_requests_consume_a_rule() -> None:
    """Method, prefix and regex matchers all have to accept the request."""
    plan = FaultPlan(FakeClock())
    plan.add(Fault(status=500, method="PUT", path_prefix="/secrets/", path_regex="fig$", times=1))
    assert plan.pick("GET", "/secrets/fig") is None
    assert plan.pick("PUT", "/keys/fig") is None
    assert plan.pick("PUT", "/secrets/other") is None
    assert plan.pick("PUT", "/secrets/fig") is not None
    assert plan.pick("PUT", "/secrets/fig") is None


def test_first_matching_rule_wins_and_can_be_removed() -> None:
    """Rules are tried in the order they were added; removing one exposes the next."""
    plan = FaultPlan(FakeClock())
    first = plan.add(Fault(status=500))
    plan.add(Fault(status=502))
    assert plan.pick("GET", "/") == Fault(status=500)
    assert plan.remove(first)
    assert plan.pick("GET", "/") == Fault(status=502)
    plan.clear()
    assert plan.pick("GET", "/") is None


def test_describe_reports_remaining_counts() -> None:
    """describe() shows each live rule with its id and what is left of its count."""
    plan = FaultPlan(FakeClock())
    rule_id = plan.add(Fault(status=503, times=3, retry_after=2))
    plan.pick("POST", "/")
    (described,) = plan.describe()
    assert (described["id"], described["remaining"], described["retry_after"]) == (rule_id, 2, 2)


def test_from_dict_refuses_unknown_fields_and_bad_values() -> None:
    """A typo in an admin request is an error, not a silently ignored field."""
    assert Fault.from_dict({"status": 429, "retry_after": 5}) == Fault(status=429, retry_after=5)
    with pytest.raises(ValueError, match="unknown fault fields"):
        Fault.from_dict({"statuss": 429})
    with pytest.raises(ValueError, match="times"):
        Fault.from_dict({"status": 500, "times": 0})
    with pytest.raises(TypeError, match="delay"):
        Fault.from_dict({"delay": "slow"})
    with pytest.raises(ValueError, match="status"):
        Fault.from_dict({"status": 204})
