"""Backoff with full jitter: bounds, Retry-After, growth, and the 7-day ceiling."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.delivery import MAX_VISIBILITY_TIMEOUT_SECONDS, backoff_ceiling, backoff_delay

pytestmark = pytest.mark.disable_socket


class Extreme(random.Random):
    """A Random whose uniform() always returns the top (or the bottom) of its range."""

    def __init__(self, *, top: bool) -> None:
        super().__init__(0)
        self.top = top

    def uniform(self, a: float, b: float) -> float:
        return b if self.top else a


attempts = st.integers(0, 2_000)
bases = st.floats(0.01, 60.0)
caps = st.floats(1.0, 10 * MAX_VISIBILITY_TIMEOUT_SECONDS)
retry_afters = st.none() | st.floats(-10.0, 2 * MAX_VISIBILITY_TIMEOUT_SECONDS)


@given(attempt=attempts, base=bases, cap=caps, retry_after=retry_afters, seed=st.integers())
def test_delay_stays_within_its_bounds(
    attempt: int, base: float, cap: float, retry_after: float | None, seed: int
) -> None:
    """The wait is between Retry-After (or 0) and the larger of it and the ceiling."""
    delay = backoff_delay(
        attempt,
        base_seconds=base,
        cap_seconds=cap,
        retry_after=retry_after,
        rng=random.Random(seed),
    )
    ceiling = min(cap, base * 2.0 ** min(attempt, 63), MAX_VISIBILITY_TIMEOUT_SECONDS)
    floor = max(retry_after or 0.0, 0.0)
    assert 0.0 <= delay <= MAX_VISIBILITY_TIMEOUT_SECONDS
    assert delay >= min(floor, MAX_VISIBILITY_TIMEOUT_SECONDS)
    assert delay <= max(ceiling, min(floor, MAX_VISIBILITY_TIMEOUT_SECONDS))


@given(attempt=attempts, retry_after=st.floats(0.0, MAX_VISIBILITY_TIMEOUT_SECONDS))
def test_retry_after_is_a_floor(attempt: int, retry_after: float) -> None:
    """Even the shortest draw waits at least as long as the service asked."""
    delay = backoff_delay(attempt, retry_after=retry_after, rng=Extreme(top=False))
    assert delay == retry_after


@given(attempt=st.integers(0, 100), base=bases, cap=caps)
def test_upper_bound_doubles_until_the_cap(attempt: int, base: float, cap: float) -> None:
    """The longest possible wait doubles with each attempt, then stays at the cap."""
    top = Extreme(top=True)
    this = backoff_delay(attempt, base_seconds=base, cap_seconds=cap, rng=top)
    after = backoff_delay(attempt + 1, base_seconds=base, cap_seconds=cap, rng=top)
    limit = min(cap, MAX_VISIBILITY_TIMEOUT_SECONDS)
    assert this == min(base * 2.0**attempt, limit)
    assert after == min(2 * this, limit)


def test_defaults_grow_from_five_seconds_to_fifteen_minutes() -> None:
    """With the defaults the ceilings are 5, 10, 20 ... 640 s, then 900 s for good."""
    ceilings = [backoff_ceiling(attempt) for attempt in range(12)]
    assert ceilings == [5, 10, 20, 40, 80, 160, 320, 640, 900, 900, 900, 900]


def test_full_jitter_uses_the_whole_range() -> None:
    """Draws spread over [0, ceiling], not bunched at its top."""
    rng = random.Random(42)
    delays = [backoff_delay(3, rng=rng) for _ in range(2_000)]
    assert min(delays) < 4.0
    assert max(delays) > 36.0
    assert all(0.0 <= d <= 40.0 for d in delays)


def test_retry_after_beyond_seven_days_is_capped() -> None:
    """A queue message cannot hide for more than 7 days, whatever the service says."""
    delay = backoff_delay(0, retry_after=10**9, rng=random.Random(0))
    assert delay == MAX_VISIBILITY_TIMEOUT_SECONDS == 604_800


def test_huge_attempt_counts_do_not_overflow() -> None:
    """Attempt 10,000 simply waits up to the cap."""
    assert backoff_ceiling(10_000) == 900.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"attempt": -1}, "attempt"),
        ({"base_seconds": 0.0}, "base_seconds"),
        ({"cap_seconds": float("inf")}, "cap_seconds"),
        ({"retry_after": float("nan")}, "retry_after"),
    ],
)
def test_nonsense_is_refused(kwargs: dict[str, float], message: str) -> None:
    """Negative attempts, non-positive or infinite durations and NaN raise ValueError."""
    arguments: dict[str, float] = {"attempt": 0, **kwargs}
    attempt = int(arguments.pop("attempt"))
    with pytest.raises(ValueError, match=message):
        backoff_delay(attempt, rng=random.Random(0), **arguments)
