"""BridgeHealth_CL rows, shaped from stored window totals (pure: no I/O).

One row per source and destination counted in a window, and one ``bridge`` row per
window: the totals over sources (and ``bridge`` counters), how many processes wrote, and
the retry-queue and dead-letter gauges. Every row of a window carries an ``EventId``
derived from the bridge, kind, name and window only, so a re-sent window de-duplicates.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.rows.eventid import event_id
from shared.rows.schema import TableSchema, load_table
from shared.telemetry.metrics import (
    ACCEPTED,
    DEAD_LETTERED,
    DELIVERED,
    DELIVERED_LATE,
    FAILED,
    QUEUED,
    RECEIVED,
    REJECTED_PREFIX,
    SKIPPED,
    TEST,
    WINDOW,
    Key,
    add_counts,
    encode_counts,
)

TABLE = "BridgeHealth_CL"

_COLUMNS = (
    (RECEIVED, "Received"),
    (ACCEPTED, "Accepted"),
    (SKIPPED, "Skipped"),
    (TEST, "Tests"),
    (QUEUED, "Queued"),
    (DELIVERED_LATE, "DeliveredLate"),
    (DEAD_LETTERED, "DeadLettered"),
    (DELIVERED, "Delivered"),
    (FAILED, "Failed"),
)


@dataclass(frozen=True)
class Gauges:
    """The retry queue and dead letters as seen at report time (None: could not be read)."""

    queue_depth: int | None = None
    dead_letter_count: int | None = None
    oldest_queued_age_seconds: float | None = None


@dataclass(frozen=True)
class ReportMarker:
    """What was reported for a window: the totals' fingerprint, when, and the gauges sent."""

    fingerprint: str
    reported_at: datetime
    gauges: Gauges = field(default_factory=Gauges)


@dataclass(frozen=True)
class StoredWindow:
    """One window as stored: each process's totals, and the report marker if reported."""

    start: datetime
    writers: Mapping[str, Mapping[Key, int]]
    marker: ReportMarker | None = None

    @property
    def fingerprint(self) -> str:
        """A hash of every process's totals: it changes when any of them does."""
        text = "\n".join(f"{w}={encode_counts(c)}" for w, c in sorted(self.writers.items()))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]

    @property
    def reported(self) -> bool:
        """True when these exact totals were reported."""
        return self.marker is not None and self.marker.fingerprint == self.fingerprint


def window_rows(
    window: StoredWindow, *, bridge: str, gauges: Gauges, reported_at: datetime
) -> list[dict[str, Any]]:
    """The BridgeHealth_CL rows of one window: one per source/destination, one ``bridge``."""
    totals: dict[Key, int] = {}
    writers: dict[tuple[str, str], set[str]] = {}
    for writer, written in window.writers.items():
        add_counts(totals, written)
        for kind, name, _ in written:
            writers.setdefault((kind, name), set()).add(writer)
    common = {
        "Bridge": bridge,
        "WindowStart": window.start,
        "WindowEnd": window.start + WINDOW,
        "TimeGenerated": window.start + WINDOW,
        "ReportedTime": reported_at,
    }
    rows = []
    summary: dict[str, int] = {}
    for kind, name in sorted(k for k in writers if k[0] != "bridge"):
        counts = {c: v for (k, n, c), v in totals.items() if (k, n) == (kind, name)}
        if kind == "source":
            _add(summary, counts)
        rows.append(_row(common, kind, name, counts, len(writers[(kind, name)])))
    for (kind, _, counter), value in totals.items():
        if kind == "bridge":
            _add(summary, {counter: value})
    row = _row(common, "bridge", bridge, summary, len(window.writers))
    row |= {
        "QueueDepth": gauges.queue_depth,
        "DeadLetterCount": gauges.dead_letter_count,
        "OldestQueuedAgeSeconds": gauges.oldest_queued_age_seconds,
    }
    return [row_schema().shape_row(r) for r in [*rows, row]]


def _add(into: dict[str, int], counts: Mapping[str, int]) -> None:
    for counter, value in counts.items():
        into[counter] = into.get(counter, 0) + value


def _row(
    common: Mapping[str, Any], kind: str, name: str, counts: Mapping[str, int], writers: int
) -> dict[str, Any]:
    start = common["WindowStart"]
    reasons = {
        c.removeprefix(REJECTED_PREFIX): v
        for c, v in counts.items()
        if c.startswith(REJECTED_PREFIX)
    }
    row: dict[str, Any] = {
        **common,
        "EventId": event_id("bridgehealth", kind, [common["Bridge"], start.isoformat(), name]),
        "Kind": kind,
        "Name": name,
        "Rejected": sum(reasons.values()),
        "RejectedByReason": dict(sorted(reasons.items())),
        "InstanceCount": writers,
    }
    for counter, column in _COLUMNS:
        row[column] = counts.get(counter, 0)
    return row


def status_row(
    *, bridge: str, kind: str, name: str, status: str, message: str, at: datetime
) -> dict[str, Any]:
    """A one-off BridgeHealth_CL row, e.g. a destination disabled (``status="disabled"``)."""
    row = {
        "TimeGenerated": at,
        "ReportedTime": at,
        "EventId": event_id("bridgehealth", "status", [bridge, kind, name, status, at.isoformat()]),
        "Bridge": bridge,
        "Kind": kind,
        "Name": name,
        "Status": status,
        "Message": message,
    }
    return row_schema().shape_row(row)


def row_schema() -> TableSchema:
    """The BridgeHealth_CL schema (read once per process)."""
    return load_table(TABLE)
