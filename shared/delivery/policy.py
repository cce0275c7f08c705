"""Which failures are worth another attempt, and for how long: the one rule, for every path.

The HTTP path (answering a webhook), the incident forwarder (a first attempt) and the
queue worker (retrying later) all call :func:`classify` with the kind of target, so a
delivery is never retried on one path and dead-lettered on the other. A 429's or 503's
``Retry-After`` is honoured by the caller's backoff (never less than it).

For a Sentinel stream (``TargetKind.SENTINEL``), transient (retry with backoff):

- no status at all: a transport error or a timeout; the request may not have arrived;
- 408 Request Timeout and 429 Too Many Requests (the per-DCR limits: 12,000 requests or
  2 GB a minute); azure-core does not retry these on a POST without ``Retry-After``;
- any 5xx;
- 401 and 403: a token can expire between being fetched and used, and a new role
  assignment takes up to 30 minutes to reach the service, which answers 403 meanwhile.
  A 403 that lasts is a configuration error, and the retry budget ends it.

Permanent (dead letter, for replay once fixed): 400 (rows the stream declaration
refuses), 404 (no such DCR or stream), 413 and every other 4xx, a 3xx (a redirect no
client followed: the endpoint setting is wrong), and the service's size
error codes (``ContentLengthLimitExceeded``, ``PayloadSizeLimitExceeded``) whatever
status they come with. Sending the same rows again cannot change those answers.

For a destination (``TargetKind.DESTINATION``: SIGNL4, a signed webhook) the same, but
401 and 403 are permanent: they mean a wrong secret or URL, which no wait will change.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

DEFAULT_RETRY_BUDGET = timedelta(hours=47)
"""How long a delivery may be retried, counted from when it was first seen.

Log Analytics replaces a ``TimeGenerated`` more than 2 days old with the time it
receives the row (reference: logs-ingestion.md, section 4), so a row delivered later
lands at the wrong time. 47 hours leaves an hour for the last wait, the request itself
and clocks that disagree. Rows whose event time was already old when first seen are
placed by ``shared.rows.timepolicy``, which keeps the event's own time in another column.
"""

_PERMANENT_CODES = frozenset({"ContentLengthLimitExceeded", "PayloadSizeLimitExceeded"})


class TargetKind(enum.Enum):
    """What a delivery goes to; each kind registers which 4xx statuses are transient."""

    SENTINEL = "sentinel"
    """A Logs Ingestion stream: a new role takes up to 30 minutes (401/403 meanwhile)."""
    DESTINATION = "destination"
    """SIGNL4 or a signed webhook: 401/403 is a wrong secret or URL."""


# Each envelope target kind (``<kind>:<name>``) and the rule it follows.
_TARGET_KINDS = {
    "sentinel": TargetKind.SENTINEL,
    "signl4": TargetKind.DESTINATION,
    "webhook": TargetKind.DESTINATION,
}


def kind_of(target: str) -> TargetKind:
    """The rule an envelope target (``sentinel:Custom-X``, ``webhook:soc``) follows.

    Raises:
        ValueError: no kind of target is registered under that prefix.
    """
    prefix = target.partition(":")[0]
    if prefix not in _TARGET_KINDS:
        raise ValueError(f"no retry rule for target kind {prefix!r}")
    return _TARGET_KINDS[prefix]


_TRANSIENT_STATUSES = {
    TargetKind.SENTINEL: frozenset({401, 403, 408, 429}),
    TargetKind.DESTINATION: frozenset({408, 429}),
}


class Outcome(enum.Enum):
    """What to do with a failed delivery."""

    TRANSIENT = "transient"
    """Retry later, with backoff, while the budget lasts."""
    PERMANENT = "permanent"
    """Do not retry; keep the rows as a dead letter."""


def classify(
    status: int | None,
    *,
    error_code: str | None = None,
    kind: TargetKind = TargetKind.SENTINEL,
) -> Outcome:
    """Classify a failed delivery by its HTTP status and the service's error code.

    Args:
        status: the response's status, or None when no response came (transport
            error, timeout).
        error_code: the ``x-ms-error-code`` header or ``error.code`` of the body, if any.
        kind: what the delivery went to.

    Returns:
        TRANSIENT or PERMANENT; see the module docstring for the table.

    Raises:
        ValueError: ``status`` is not an HTTP error status (outside 300-599): a success
            is not a failure to classify.
    """
    if error_code in _PERMANENT_CODES:
        return Outcome.PERMANENT
    if status is None:
        return Outcome.TRANSIENT
    if not 300 <= status <= 599:
        raise ValueError(f"status {status} is not a failure")
    if status >= 500 or status in _TRANSIENT_STATUSES[kind]:
        return Outcome.TRANSIENT
    return Outcome.PERMANENT


def budget_exhausted(
    first_seen: datetime, now: datetime, budget: timedelta = DEFAULT_RETRY_BUDGET
) -> bool:
    """Whether a delivery first seen at ``first_seen`` has run out of retry time.

    Pass as ``now`` the time the *next* attempt would run (the current time plus its
    backoff), so a delivery is never scheduled past its budget.

    Args:
        first_seen: when the bridge first received the delivery (timezone-aware).
        now: the moment to judge (timezone-aware).
        budget: how long retries may go on.

    Raises:
        ValueError: either datetime is naive.
    """
    if first_seen.tzinfo is None or now.tzinfo is None:
        raise ValueError("first_seen and now must be timezone-aware")
    return now - first_seen >= budget
