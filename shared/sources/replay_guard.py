"""The replay guard for Standard Webhooks: claim, deliver once, keep, or release.

A ``webhook-id`` is *claimed* (marked in flight) before its row is sent, atomically
across every instance of the app, so of several copies sent at once (to one instance or
to several) exactly one is delivered; a delivered id is *kept* for ``delivered`` (the
sender's retry schedule); an id whose delivery failed is *released*, so the sender's
retry is taken. The ledger behind it is a port: a Table shared by every instance in the
app (``shared.adapters.replay_table``), or :class:`MemoryReplayLedger` (one process:
tests, and the reference for the rules).

The rules are pure (:func:`is_free`): a mark older than its window is free again, and
is overwritten by the next claim. An in-flight mark is free after ``in_flight``: longer
than any request can take (the platform's front end ends a request at 230 s), so a
claim left by an instance that died mid-request does not hold the id for a day.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

logger = logging.getLogger(__name__)

REPLAY_WINDOW_SECONDS = 24 * 3600.0  # Standard Webhooks' example retry schedule spans a day
IN_FLIGHT_SECONDS = 240.0  # above the 230 s a request may last behind the front end
REPLAY_MAX_ENTRIES = 20_000  # the in-memory ledger's bound

IN_FLIGHT = "inflight"
DELIVERED = "delivered"

ReplayKey = tuple[str, str]
"""(route, webhook-id): the same id from two sources is two messages."""


@dataclass(frozen=True)
class ReplayWindows:
    """How long a mark holds its id: delivered ids, and claims still in flight."""

    delivered: timedelta = timedelta(seconds=REPLAY_WINDOW_SECONDS)
    in_flight: timedelta = timedelta(seconds=IN_FLIGHT_SECONDS)


@dataclass(frozen=True)
class ReplayMark:
    """What the ledger holds for one id: ``inflight`` or ``delivered``, and since when."""

    state: str
    at: datetime


def is_free(mark: ReplayMark | None, now: datetime, windows: ReplayWindows) -> bool:
    """True when ``key``'s mark no longer holds it: none, or older than its window.

    A mark stamped after ``now`` (another instance's clock runs ahead) holds.
    """
    if mark is None:
        return True
    window = windows.delivered if mark.state == DELIVERED else windows.in_flight
    return now - mark.at > window


class ReplayLedger(Protocol):
    """Where claims and delivered ids are kept (shared by every instance, or not)."""

    async def claim(self, key: ReplayKey, now: datetime) -> str | None:
        """Mark ``key`` in flight unless a mark holds it; a token for keep/release, or None.

        Raises:
            UpstreamUnavailable: the ledger cannot be reached (503: the sender retries).
        """
        ...

    async def keep(self, key: ReplayKey, token: str, now: datetime) -> None:
        """Mark ``key`` delivered at ``now`` (never raises: the rows are already taken)."""
        ...

    async def release(self, key: ReplayKey, token: str) -> None:
        """Drop the claim ``token`` made, if it is still that claim (never raises)."""
        ...


class MemoryReplayLedger:
    """``ReplayLedger`` in this process's memory, bounded (oldest dropped when full)."""

    def __init__(
        self, *, windows: ReplayWindows | None = None, max_entries: int = REPLAY_MAX_ENTRIES
    ) -> None:
        """Take the windows and the bound."""
        self._windows = windows or ReplayWindows()
        self._max_entries = max_entries
        self._marks: OrderedDict[ReplayKey, tuple[ReplayMark, str]] = OrderedDict()
        self._lock = threading.Lock()
        self._counter = 0

    def mark(self, key: ReplayKey) -> ReplayMark | None:
        """The mark held for ``key``, if any (for tests and diagnostics)."""
        with self._lock:
            held = self._marks.get(key)
            return None if held is None else held[0]

    async def claim(self, key: ReplayKey, now: datetime) -> str | None:
        """See :meth:`ReplayLedger.claim`."""
        with self._lock:
            held = self._marks.get(key)
            if not is_free(None if held is None else held[0], now, self._windows):
                return None
            self._counter += 1
            token = str(self._counter)
            self._put(key, ReplayMark(IN_FLIGHT, now), token)
            return token

    async def keep(self, key: ReplayKey, token: str, now: datetime) -> None:
        """See :meth:`ReplayLedger.keep`."""
        with self._lock:
            self._put(key, ReplayMark(DELIVERED, now), token)

    async def release(self, key: ReplayKey, token: str) -> None:
        """See :meth:`ReplayLedger.release`."""
        with self._lock:
            held = self._marks.get(key)
            if held is not None and held[1] == token:
                del self._marks[key]

    def _put(self, key: ReplayKey, mark: ReplayMark, token: str) -> None:
        """(Caller holds the lock.)"""
        self._marks[key] = (mark, token)
        self._marks.move_to_end(key)
        while len(self._marks) > self._max_entries:
            self._marks.popitem(last=False)


class ReplayTicket:
    """One request's hold on its ``webhook-id``: claim before delivery, then keep or release.

    ``finish`` releases a claim that was not kept, and does nothing otherwise (no claim
    made, the claim lost, or the id kept), so it is safe to call whatever happened.
    """

    def __init__(self, ledger: ReplayLedger, key: ReplayKey, now: datetime) -> None:
        """Hold nothing yet; ``now`` is the request's receive time."""
        self._ledger = ledger
        self._key = key
        self._now = now
        self._token: str | None = None
        self._kept = False

    async def claim(self) -> bool:
        """True when this request may deliver; False for a duplicate (kept or in flight)."""
        self._token = await self._ledger.claim(self._key, self._now)
        if self._token is None:
            route = self._key[0]
            logger.info("%s: webhook-id already delivered or in flight; no second row", route)
            return False
        return True

    async def keep(self) -> None:
        """Every row is in Sentinel or durably queued: remember the id as delivered."""
        if self._token is not None:
            await self._ledger.keep(self._key, self._token, self._now)
            self._kept = True

    async def finish(self) -> None:
        """The request is over: release the claim unless it was kept."""
        if self._token is not None and not self._kept:
            await self._ledger.release(self._key, self._token)
            self._token = None
