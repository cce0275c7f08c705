"""The ingestion emulator's data: accepted rows, the error log, counters and the role switch.

No HTTP here. The protocol app (:mod:`local.emulators.ingestion`) writes it and the admin
routes (:mod:`local.emulators.ingestion_admin`) read and reset it; both receive the store.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any


@dataclasses.dataclass(frozen=True)
class StoredRow:
    """One accepted row as the workspace would hold it."""

    stream: str
    row: dict[str, Any]
    received_at: datetime
    client_request_id: str | None


@dataclasses.dataclass(frozen=True)
class IngestionError:
    """One DCRLogErrors-like entry: a value dropped or changed, or a silently failed request."""

    time: datetime
    stream: str
    client_request_id: str | None
    kind: str
    message: str
    column: str | None = None
    row_index: int | None = None


@dataclasses.dataclass
class StreamStats:
    """Per-stream counters, for tests and benchmarks."""

    requests: int = 0
    accepted_requests: int = 0
    rows: int = 0
    wire_bytes: int = 0
    decompressed_bytes: int = 0
    issues: int = 0


class IngestionStore:
    """Thread-safe rows, errors and counters of one DCR, and whether its role is assigned.

    ``role_missing`` makes every upload answer 403, as while a role assignment propagates.
    """

    def __init__(self) -> None:
        self.role_missing = False
        self._lock = threading.Lock()
        self._rows: list[StoredRow] = []
        self._errors: list[IngestionError] = []
        self._stats: collections.defaultdict[str, StreamStats] = collections.defaultdict(
            StreamStats
        )
        self._refused: collections.Counter[int] = collections.Counter()

    # -- read and reset (admin) -------------------------------------------------------------

    def rows(self, stream: str | None = None) -> list[StoredRow]:
        """Accepted rows, oldest first, of one stream or all."""
        with self._lock:
            return [r for r in self._rows if stream is None or r.stream == stream]

    def clear_rows(self, stream: str | None = None) -> None:
        """Forget the accepted rows of one stream or all."""
        with self._lock:
            self._rows = [r for r in self._rows if stream is not None and r.stream != stream]

    def errors(self) -> list[IngestionError]:
        """Every value dropped or changed and every silent failure, oldest first."""
        with self._lock:
            return list(self._errors)

    def clear_errors(self) -> None:
        """Forget the error log."""
        with self._lock:
            self._errors.clear()

    def stats(self) -> dict[str, Any]:
        """Per-stream counters and refusals by status, JSON-ready."""
        with self._lock:
            return {
                "streams": {name: dataclasses.asdict(s) for name, s in self._stats.items()},
                "refused": {str(status): n for status, n in self._refused.items()},
            }

    def reset(self) -> None:
        """Forget rows, errors and counters; grant the role again."""
        self.role_missing = False
        with self._lock:
            self._rows.clear()
            self._errors.clear()
            self._stats.clear()
            self._refused.clear()

    # -- write (protocol) -------------------------------------------------------------------

    def count_request(self, stream: str) -> None:
        """One upload routed to ``stream``, whatever its outcome."""
        with self._lock:
            self._stats[stream].requests += 1

    def count_bytes(self, stream: str, *, wire: int, decompressed: int) -> None:
        """The body sizes of one upload, as sent and after decompression."""
        with self._lock:
            self._stats[stream].wire_bytes += wire
            self._stats[stream].decompressed_bytes += decompressed

    def count_refusal(self, status: int) -> None:
        """One upload refused with ``status``."""
        with self._lock:
            self._refused[status] += 1

    def log_error(self, error: IngestionError) -> None:
        """Record a silent failure (a request answered 204 that stored nothing)."""
        with self._lock:
            self._errors.append(error)

    def extend_errors(self, errors: Iterable[IngestionError]) -> None:
        """Record values the destination table dropped (after the transformation)."""
        with self._lock:
            self._errors.extend(errors)

    def accept(
        self, stream: str, rows: Sequence[StoredRow], errors: Sequence[IngestionError]
    ) -> None:
        """Store one accepted request's rows and the values it dropped or changed."""
        with self._lock:
            self._rows.extend(rows)
            self._errors.extend(errors)
            counters = self._stats[stream]
            counters.accepted_requests += 1
            counters.rows += len(rows)
            counters.issues += len(errors)
