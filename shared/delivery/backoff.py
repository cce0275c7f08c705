"""How long a failed delivery waits before its next attempt.

Exponential backoff with *full* jitter: attempt ``n`` waits a uniformly random time in
``[0, min(cap, base * 2**n)]``. Full jitter spreads a crowd of retries (every webhook
queued during one outage) over the whole window instead of sending them back in waves,
at the cost of sometimes retrying early; a retry is cheap here (one queue message).

Defaults:

- ``base_seconds = 5``: the first retry comes within seconds, which covers a lost
  connection or a single 503; it is Fluent Bit's base too.
- ``cap_seconds = 900`` (15 minutes), reached at attempt 8: a new role assignment can
  take up to 30 minutes to propagate (403s meanwhile) and an outage can last hours, so
  waits keep growing to a point where each message costs a few retries an hour, yet a
  row retried for its whole 47-hour budget (:func:`shared.delivery.policy.budget_exhausted`)
  still lands well inside Log Analytics' 2-day ``TimeGenerated`` window.
- A ``Retry-After`` from the service is a floor: the wait is never shorter.
- Nothing waits longer than 7 days, the longest visibility timeout an Azure Storage
  queue accepts, even when ``Retry-After`` asks for more. (The message's time-to-live
  must also outlast the wait; the queue adapter sets it.)

The result is a float of seconds; the queue adapter rounds it *up* to whole seconds
(``math.ceil``), so a ``Retry-After`` is still honoured.
"""

from __future__ import annotations

import math
import random

DEFAULT_BASE_SECONDS = 5.0
DEFAULT_CAP_SECONDS = 900.0
MAX_VISIBILITY_TIMEOUT_SECONDS = 7 * 24 * 60 * 60
"""604,800 s: the largest ``visibilitytimeout`` Azure Storage queues accept."""

# 2**63 times any positive base is past every cap a caller could mean; stopping the
# exponent there keeps the arithmetic finite for absurd attempt counts.
_MAX_EXPONENT = 63


def backoff_ceiling(
    attempt: int,
    *,
    base_seconds: float = DEFAULT_BASE_SECONDS,
    cap_seconds: float = DEFAULT_CAP_SECONDS,
) -> float:
    """The longest wait :func:`backoff_delay` can draw for ``attempt`` (before Retry-After).

    Raises:
        ValueError: ``attempt`` is negative, or ``base_seconds`` or ``cap_seconds`` is
            not a positive finite number.
    """
    if attempt < 0:
        raise ValueError("attempt must be 0 or more")
    for name, value in (("base_seconds", base_seconds), ("cap_seconds", cap_seconds)):
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive number of seconds")
    exponential = base_seconds * 2.0 ** min(attempt, _MAX_EXPONENT)
    return min(cap_seconds, exponential, float(MAX_VISIBILITY_TIMEOUT_SECONDS))


def backoff_delay(
    attempt: int,
    *,
    base_seconds: float = DEFAULT_BASE_SECONDS,
    cap_seconds: float = DEFAULT_CAP_SECONDS,
    retry_after: float | None = None,
    rng: random.Random,
) -> float:
    """Seconds to wait before retry number ``attempt`` (0 for the first retry).

    Args:
        attempt: how many retries came before this one.
        base_seconds: the ceiling of the first wait.
        cap_seconds: the ceiling never grows past this.
        retry_after: the service's ``Retry-After``, in seconds, if it sent one; the wait
            is at least this long (up to the 7-day maximum). Negative values count as 0.
        rng: the source of jitter (``random.Random()`` in the app, seeded in tests).

    Returns:
        A wait in ``[0, MAX_VISIBILITY_TIMEOUT_SECONDS]``: uniform in
        ``[0, min(cap_seconds, base_seconds * 2**attempt)]``, raised to ``retry_after``.

    Raises:
        ValueError: ``attempt`` is negative, ``base_seconds`` or ``cap_seconds`` is not
            positive, or ``retry_after`` is NaN.
    """
    ceiling = backoff_ceiling(attempt, base_seconds=base_seconds, cap_seconds=cap_seconds)
    delay = rng.uniform(0.0, ceiling)
    if retry_after is not None:
        if math.isnan(retry_after):
            raise ValueError("retry_after must be a number of seconds")
        delay = max(delay, retry_after)
    return min(max(delay, 0.0), float(MAX_VISIBILITY_TIMEOUT_SECONDS))
