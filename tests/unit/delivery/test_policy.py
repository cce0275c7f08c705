"""Failure classification and the retry budget, shared by the HTTP path and the queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.delivery import DEFAULT_RETRY_BUDGET, Outcome, budget_exhausted, classify

pytestmark = pytest.mark.disable_socket

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("status", [None, 401, 403, 408, 429, 500, 502, 503, 504, 599])
def test_transient_statuses(status: int | None) -> None:
    """No answer, auth that may heal, timeouts, throttling and server errors are retried."""
    assert classify(status) is Outcome.TRANSIENT


@pytest.mark.parametrize("status", [300, 400, 402, 404, 405, 409, 413, 415, 422, 451, 499])
def test_permanent_statuses(status: int) -> None:
    """Every other 4xx (and an unfollowed redirect) cannot succeed by being resent."""
    assert classify(status) is Outcome.PERMANENT


@pytest.mark.parametrize("code", ["ContentLengthLimitExceeded", "PayloadSizeLimitExceeded"])
@pytest.mark.parametrize("status", [None, 413, 500])
def test_size_error_codes_are_permanent_whatever_the_status(code: str, status: int | None) -> None:
    """The service's size errors mean the body is too big; resending cannot help."""
    assert classify(status, error_code=code) is Outcome.PERMANENT


def test_other_error_codes_leave_the_status_in_charge() -> None:
    """An unknown or general error code does not change the outcome."""
    assert classify(403, error_code="OperationFailed") is Outcome.TRANSIENT
    assert classify(400, error_code="InvalidStream") is Outcome.PERMANENT


@pytest.mark.parametrize("status", [100, 200, 204, 299, 600, 0, -1])
def test_non_failures_are_refused(status: int) -> None:
    """A success (or no HTTP status at all) is not a failure to classify."""
    with pytest.raises(ValueError, match="not a failure"):
        classify(status)


def test_budget_runs_out_at_47_hours() -> None:
    """One microsecond before 47 hours there is budget left; at 47 hours there is none."""
    assert timedelta(hours=47) == DEFAULT_RETRY_BUDGET
    end = T0 + timedelta(hours=47)
    assert not budget_exhausted(T0, end - timedelta(microseconds=1))
    assert budget_exhausted(T0, end)


def test_budget_compares_instants_across_time_zones() -> None:
    """The same instant written in another zone gives the same answer."""
    plus_two = timezone(timedelta(hours=2))
    assert budget_exhausted(T0, (T0 + timedelta(hours=47)).astimezone(plus_two))
    assert not budget_exhausted(T0.astimezone(plus_two), T0 + timedelta(hours=46))


def test_budget_can_be_chosen_and_a_clock_behind_is_not_exhausted() -> None:
    """A custom budget applies, and a 'now' before first_seen has time left."""
    assert budget_exhausted(T0, T0 + timedelta(minutes=5), budget=timedelta(minutes=5))
    assert not budget_exhausted(T0, T0 - timedelta(hours=1))


def test_naive_datetimes_are_refused() -> None:
    """Comparing a naive time with an aware one would be a guess."""
    with pytest.raises(ValueError, match="timezone-aware"):
        budget_exhausted(T0.replace(tzinfo=None), T0)
    with pytest.raises(ValueError, match="timezone-aware"):
        budget_exhausted(T0, T0.replace(tzinfo=None))
