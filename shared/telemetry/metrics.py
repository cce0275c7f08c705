"""Per-source counters, kept in memory per 5-minute window (pure: no I/O, no settings).

Each process counts what it handles in a :class:`Counters`; a flusher writes each
window's totals to Table storage (``shared.adapters.health_table``), and the bridge
health timer sums every process's totals into ``BridgeHealth_CL`` rows
(``shared.telemetry.bridge_health``). Counting is cheap and safe from any thread: one lock, one
clock read, two dict updates.

Keys are ``(kind, name, counter)``: ``kind`` is ``source`` (a webhook source such as
``fig``), ``destination`` (where the bridge forwards to) or ``bridge``. Counters::

    received          webhooks that reached the intake service
    rejected:<Code>   webhooks answered with an error, by error code (rejected:Unauthorized)
    accepted          rows Sentinel accepted at once
    skipped           rows left out on purpose (event types not enabled)
    queued            rows put on the retry queue
    delivered_late    queued rows Sentinel accepted later
    dead_lettered     rows put in the dead letters
    delivered         deliveries a destination accepted
    failed            deliveries a destination refused

``received`` and ``rejected:*`` count webhooks (requests); the others count rows.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, get_args

Kind = Literal["source", "destination", "bridge"]
KINDS: frozenset[str] = frozenset(get_args(Kind))

RECEIVED = "received"
ACCEPTED = "accepted"
SKIPPED = "skipped"
TEST = "test"
QUEUED = "queued"
DELIVERED_LATE = "delivered_late"
DEAD_LETTERED = "dead_lettered"
DELIVERED = "delivered"
FAILED = "failed"
REJECTED_PREFIX = "rejected:"
COUNTERS: frozenset[str] = frozenset(
    {RECEIVED, ACCEPTED, SKIPPED, TEST, QUEUED, DELIVERED_LATE, DEAD_LETTERED, DELIVERED, FAILED}
)

WINDOW = timedelta(minutes=5)
MAX_WINDOWS = 288
"""Windows kept in memory at most (a day): older ones are dropped if never flushed."""

_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Key = tuple[str, str, str]
"""``(kind, name, counter)``."""


def rejected(code: str) -> str:
    """The counter for webhooks refused with error ``code`` (e.g. ``rejected:Unauthorized``)."""
    return REJECTED_PREFIX + code


def is_counter(counter: str) -> bool:
    """Whether ``counter`` is a known counter name or ``rejected:<Code>``."""
    if counter in COUNTERS:
        return True
    code = counter.removeprefix(REJECTED_PREFIX)
    return code != counter and _CODE.fullmatch(code) is not None


def window_start(moment: datetime) -> datetime:
    """The start of the 5-minute window holding ``moment`` (aware), in UTC."""
    if moment.tzinfo is None:
        raise ValueError("window_start needs an aware datetime")
    step = int(WINDOW.total_seconds())
    seconds = int((moment - _EPOCH).total_seconds() // step) * step
    return _EPOCH + timedelta(seconds=seconds)


def utc_now() -> datetime:
    """The default clock."""
    return datetime.now(UTC)


def new_instance_id(instance: str) -> str:
    """An id for this process: the host instance (if known, else "") and a random part.

    Several worker processes can share one instance (``FUNCTIONS_WORKER_PROCESS_COUNT``)
    and a restarted process must not overwrite its predecessor's totals, so the random
    part is always there.
    """
    unique = secrets.token_hex(4)
    return f"{instance}-{unique}" if instance else unique


@dataclass(frozen=True)
class WindowCounts:
    """One window's totals in one process, as of ``version``."""

    start: datetime
    version: int
    counts: Mapping[Key, int]

    @property
    def end(self) -> datetime:
        """When the window ends (exclusive)."""
        return self.start + WINDOW


class Counters:
    """Thread-safe counters of one process, per window.

    Args:
        instance_id: this process's id (:func:`new_instance_id`).
        clock: aware "now"; each count goes to the window holding the time it was made.
        max_windows: windows kept at most; the oldest are dropped first.
    """

    def __init__(
        self,
        instance_id: str,
        *,
        clock: Callable[[], datetime] = utc_now,
        max_windows: int = MAX_WINDOWS,
    ) -> None:
        self.instance_id = instance_id
        self._clock = clock
        self._max_windows = max_windows
        self._lock = threading.Lock()
        self._windows: dict[datetime, dict[Key, int]] = {}
        self._versions: dict[datetime, int] = {}
        self._flushed: dict[datetime, int] = {}
        self._last_window: tuple[datetime, datetime] | None = None
        self.dropped_windows = 0

    def count(self, name: str, counter: str, n: int = 1, *, kind: Kind = "source") -> None:
        """Add ``n`` to ``counter`` of ``name`` in the current window.

        Raises:
            ValueError: an unknown kind or counter, or a negative ``n`` (programming errors).
        """
        self.count_each(name, {counter: n}, kind=kind)

    def count_each(self, name: str, counts: Mapping[str, int], *, kind: Kind = "source") -> None:
        """Add each ``counter: n`` of ``counts`` to ``name`` in the current window at once
        (one lock and one clock read for everything a request counts).

        Raises:
            ValueError: an unknown kind or counter, or a negative ``n`` (programming errors).
        """
        for counter, n in counts.items():
            if n < 0 or kind not in KINDS or (counter not in COUNTERS and not is_counter(counter)):
                raise ValueError(f"bad count: {kind} {counter} {n}")
        if not any(counts.values()):
            return
        with self._lock:
            start = self._window_of(self._clock())
            window = self._windows.get(start)
            if window is None:
                window = self._windows[start] = {}
                self._versions[start] = 0
                self._flushed[start] = 0
                self._trim()
            for counter, n in counts.items():
                if n:
                    key = (kind, name, counter)
                    window[key] = window.get(key, 0) + n
            self._versions[start] += 1

    def _window_of(self, moment: datetime) -> datetime:
        # The window of the previous count, while the clock is still inside it: every
        # request counts, and window_start's arithmetic is most of a count's cost.
        cached = self._last_window
        if cached is not None and cached[0] <= moment < cached[1]:
            return cached[0]
        start = window_start(moment)
        self._last_window = (start, start + WINDOW)
        return start

    def current_window(self) -> datetime:
        """The start of the window counts go to now."""
        return window_start(self._clock())

    def pending(self) -> list[WindowCounts]:
        """Windows changed since they were last flushed, oldest first (copies)."""
        with self._lock:
            return [
                WindowCounts(start, self._versions[start], dict(counts))
                for start, counts in sorted(self._windows.items())
                if self._versions[start] > self._flushed[start]
            ]

    def mark_flushed(self, window: WindowCounts) -> None:
        """Record that ``window`` was stored; a completed window stored whole is forgotten."""
        with self._lock:
            start = window.start
            if start not in self._windows:
                return
            self._flushed[start] = max(self._flushed[start], window.version)
            complete = window.end <= window_start(self._clock())
            if complete and self._flushed[start] == self._versions[start]:
                self._forget(start)

    def drop(self, start: datetime) -> None:
        """Forget window ``start`` unflushed (it is too old to be reported correctly)."""
        with self._lock:
            if start in self._windows:
                self._forget(start)
                self.dropped_windows += 1

    def totals(self, start: datetime) -> dict[Key, int]:
        """This process's totals in window ``start`` (empty if none are kept)."""
        with self._lock:
            return dict(self._windows.get(start, {}))

    def _trim(self) -> None:
        while len(self._windows) > self._max_windows:
            self._forget(min(self._windows))
            self.dropped_windows += 1

    def _forget(self, start: datetime) -> None:
        del self._windows[start], self._versions[start], self._flushed[start]


def encode_counts(counts: Mapping[Key, int]) -> str:
    """``counts`` as compact JSON: ``{"kind": {"name": {"counter": n}}}``, keys sorted."""
    nested: dict[str, dict[str, dict[str, int]]] = {}
    for (kind, name, counter), value in counts.items():
        nested.setdefault(kind, {}).setdefault(name, {})[counter] = value
    return json.dumps(nested, sort_keys=True, separators=(",", ":"))


def decode_counts(text: str) -> dict[Key, int]:
    """The counts :func:`encode_counts` wrote; entries of unknown shape are skipped."""
    document = json.loads(text)
    counts: dict[Key, int] = {}
    if not isinstance(document, dict):
        return counts
    for kind, names in document.items():
        if kind not in KINDS or not isinstance(names, dict):
            continue
        for name, values in names.items():
            if not isinstance(values, dict):
                continue
            for counter, value in values.items():
                if is_counter(counter) and _is_count(value):
                    counts[(kind, name, counter)] = value
    return counts


def add_counts(into: dict[Key, int], counts: Mapping[Key, int]) -> None:
    """Add ``counts`` to ``into``, key by key."""
    for key, value in counts.items():
        into[key] = into.get(key, 0) + value


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
