"""When a destination is switched off, and when it comes back (pure).

Like Wallarm's integrations: a destination that failed at least 60% of its deliveries
over the last 12 hours is disabled, once it had at least ``MIN_DELIVERIES`` of them (two
failures out of two is not a pattern). Outcomes are kept in hourly buckets, so the state
is small and the arithmetic exact to the hour. While disabled, deliveries to it are
dead-lettered (kept for replay), except one *probe* every ``PROBE_EVERY``: a real delivery
let through; if it succeeds the destination is enabled again. An admin call enables it too.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

WINDOW = timedelta(hours=12)
BUCKET = timedelta(hours=1)
FAILURE_RATIO = 0.6
MIN_DELIVERIES = 10
PROBE_EVERY = timedelta(minutes=30)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Gate(enum.Enum):
    """Whether a delivery may go to the destination now."""

    OPEN = "open"
    """Enabled: deliver."""
    PROBE = "probe"
    """Disabled, but this delivery is the probe: deliver and see."""
    CLOSED = "closed"
    """Disabled: do not deliver (dead-letter)."""


class Transition(enum.Enum):
    """What a recorded outcome did to the destination."""

    NONE = "none"
    DISABLED = "disabled"
    ENABLED = "enabled"


@dataclass(frozen=True)
class Breaker:
    """One destination's outcomes per hour and whether it is disabled.

    ``buckets`` maps an hour (seconds since the epoch, a multiple of 3600) to
    ``(delivered, failed)``.
    """

    buckets: tuple[tuple[int, int, int], ...] = ()
    disabled_at: datetime | None = None
    last_probe: datetime | None = None

    @property
    def disabled(self) -> bool:
        """True while the destination is switched off."""
        return self.disabled_at is not None

    def totals(self, now: datetime) -> tuple[int, int]:
        """``(delivered, failed)`` over the last 12 hours."""
        oldest = _hour(now - WINDOW + BUCKET)
        kept = [b for b in self.buckets if b[0] >= oldest]
        return sum(b[1] for b in kept), sum(b[2] for b in kept)

    def gate(self, now: datetime) -> Gate:
        """Whether to deliver now (see the module docstring)."""
        if not self.disabled:
            return Gate.OPEN
        since = self.last_probe or self.disabled_at
        return Gate.PROBE if since is None or now - since >= PROBE_EVERY else Gate.CLOSED

    def record(self, ok: bool, now: datetime) -> tuple[Breaker, Transition]:
        """The breaker after one delivery's outcome, and what changed."""
        hour = _hour(now)
        oldest = _hour(now - WINDOW + BUCKET)
        buckets = {b[0]: (b[1], b[2]) for b in self.buckets if b[0] >= oldest}
        delivered, failed = buckets.get(hour, (0, 0))
        buckets[hour] = (delivered + ok, failed + (not ok))
        state = replace(self, buckets=tuple((h, d, f) for h, (d, f) in sorted(buckets.items())))
        if self.disabled:
            if ok:
                return replace(state, disabled_at=None, last_probe=None), Transition.ENABLED
            return replace(state, last_probe=now), Transition.NONE
        if should_disable(*state.totals(now)):
            return replace(state, disabled_at=now, last_probe=None), Transition.DISABLED
        return state, Transition.NONE

    def enabled(self) -> Breaker:
        """Enabled by an admin: the failures that tripped it are forgotten too."""
        return Breaker()


def should_disable(delivered: int, failed: int) -> bool:
    """At least ``MIN_DELIVERIES`` and at least 60% of them failed."""
    total = delivered + failed
    return total >= MIN_DELIVERIES and failed >= FAILURE_RATIO * total


def _hour(moment: datetime) -> int:
    seconds = int((moment - _EPOCH).total_seconds())
    return seconds - seconds % int(BUCKET.total_seconds())
