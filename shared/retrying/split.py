"""How a failed retry splits: what may pass later and what never can (pure).

A Logs Ingestion failure can refuse some rows for good (a schema mismatch) and others for
now (throttling): the first part is dead-lettered, the second re-queued. Which is which is
``shared.delivery.policy``'s call alone.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from shared.delivery.envelope import Envelope
from shared.delivery.policy import Outcome, TargetKind, classify, kind_of
from shared.errors import BridgeError, IngestionFailed, UpstreamUnavailable


@dataclass(frozen=True)
class Part:
    """Part of a failed delivery: what to send again (or keep), and why it failed."""

    envelope: Envelope
    status: int | None
    retry_after: float | None
    reason: str
    permanent: bool


def split_failure(envelope: Envelope, error: BridgeError) -> list[Part]:
    """Split a failure into what may pass and what cannot; accepted rows are in neither.

    Settings and secret problems have no status: transient, until fixed or out of budget.
    """
    kind = kind_of(envelope.target)
    if not isinstance(error, IngestionFailed) or not error.failed_rows:
        status, retry_after = None, None
        if isinstance(error, UpstreamUnavailable):
            status, retry_after = error.upstream_status, error.retry_after
        permanent = _is_permanent(False, status, kind)
        return [Part(envelope, status, retry_after, describe(error), permanent)]
    parts: list[Part] = []
    for permanent in (True, False):
        refused = [
            r for r in error.refused if _is_permanent(r.permanent, r.status, kind) is permanent
        ]
        if not refused:
            continue
        worst = max(refused, key=lambda r: r.retry_after or 0)
        rows = [row for r in refused for row in r.rows]
        part_envelope = replace(envelope, rows=rows)
        reason = "; ".join(sorted({r.reason for r in refused}))
        parts.append(Part(part_envelope, worst.status, worst.retry_after, reason, permanent))
    if len(parts) == 2:  # the dead-lettered half is a delivery of its own from now on
        parts[0] = replace(parts[0], envelope=replace(parts[0].envelope, id=str(uuid.uuid4())))
    return parts


def _is_permanent(flagged: bool, status: int | None, kind: TargetKind) -> bool:
    return flagged or (status is not None and classify(status, kind=kind) is Outcome.PERMANENT)


def describe(error: BridgeError) -> str:
    """The error's class and status: never a response body or a row."""
    status = error.upstream_status if isinstance(error, UpstreamUnavailable) else None
    return f"{type(error).__name__} ({status})" if status is not None else type(error).__name__
