"""The replay guard for Standard Webhooks: reserve, deliver once, remember, or release.

``reserve`` claims a message id atomically (under a lock) before its row is sent, so
concurrent copies of one message yield exactly one delivery; ``remember`` marks it
delivered for the window; ``release`` drops a claim whose delivery failed, so the
sender's retry is taken. Per process and per instance (the scale-out issue moves it into
a Table shared by every instance).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

REPLAY_WINDOW_SECONDS = 24 * 3600.0  # Standard Webhooks' example retry schedule spans a day
REPLAY_MAX_ENTRIES = 20_000


class ReplayGuard:
    """Delivered message ids, remembered for a bounded time and number (oldest dropped)."""

    def __init__(
        self,
        *,
        window_seconds: float = REPLAY_WINDOW_SECONDS,
        max_entries: int = REPLAY_MAX_ENTRIES,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """Take the window, the bound and the clock."""
        self._window = window_seconds
        self._max_entries = max_entries
        self._monotonic = monotonic
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._in_flight: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def seen(self, key: tuple[str, str]) -> bool:
        """True when ``key`` was remembered within the window."""
        with self._lock:
            return self._delivered(key)

    def reserve(self, key: tuple[str, str]) -> bool:
        """Claim ``key`` as in flight; False when it is delivered or already in flight."""
        with self._lock:
            if key in self._in_flight or self._delivered(key):
                return False
            self._in_flight.add(key)
            return True

    def release(self, key: tuple[str, str]) -> None:
        """Give up an in-flight claim (a delivered ``key`` stays remembered)."""
        with self._lock:
            self._in_flight.discard(key)

    def remember(self, key: tuple[str, str]) -> None:
        """Remember ``key`` as delivered now, dropping the oldest entries beyond the bound."""
        with self._lock:
            self._in_flight.discard(key)
            self._seen[key] = self._monotonic()
            self._seen.move_to_end(key)
            while len(self._seen) > self._max_entries:
                self._seen.popitem(last=False)

    def _delivered(self, key: tuple[str, str]) -> bool:
        """(Caller holds the lock.)"""
        remembered = self._seen.get(key)
        if remembered is None:
            return False
        if self._monotonic() - remembered > self._window:
            del self._seen[key]
            return False
        return True
