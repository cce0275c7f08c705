"""Coalescing: rows from concurrent webhooks on one event loop share uploads.

Webhooks arrive one event at a time, and one request per event wastes the DCR's 12,000
requests a minute. Async functions in one worker process share an event loop, so rows
for the same stream that arrive close together are sent in the same packed requests.
Each caller still waits for its own rows' outcome, and sees only its own refusals, so no
webhook is answered before its rows were accepted (or refused).

When a stream's batch is sent:

- once it is *full*: it holds as many rows as the stream had in company at its recent
  uploads (an upload's rows plus those still in flight when it started), and none of the
  stream's uploads is in flight (whose callers would send again),
- or once no row has joined it for ``quiet_seconds`` (the burst it belongs to is over, so
  waiting longer only delays the senders),
- or ``window_seconds`` after it opened, whichever comes first,
- but never sooner than ``window_seconds`` after the stream's previous upload started
  (a start up to 2 ms late counts from when it was due, see ``counted_start``).

The last rule caps a process at ``1 / window_seconds`` uploads per stream per second,
which is what ``docs/scaling.md`` counts against the DCR's request limit; the first two
keep a burst from waiting out the whole window once it has all arrived. The quiet gap
alone cannot be shorter than a millisecond in practice (an idle loop sleeps in whole
milliseconds), and under steady senders that millisecond was an eighth of each round
trip, with the worker idle: the full-batch rule sends without it. A burst of one row
never sets the full size, so a lone webhook still waits the quiet gap for company. The
size is the largest of several uploads, counting rows in flight, so senders that fell
into two groups (one batch in flight while the other fills) still count as one burst and
merge again through the quiet gap; a size taken from the last upload alone ratcheted
down to the smaller group and kept them apart.
"""

from __future__ import annotations

import asyncio
import contextvars
import weakref
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.errors import Refused

Upload = Callable[[str, Sequence[Mapping[str, Any]]], list[Refused]]
"""A blocking upload of rows to a stream, returning what was refused by row index."""

DEFAULT_QUIET_SECONDS = 0.001
"""How long a batch waits without new rows before it is sent (when the window allows)."""

TIMER_SLACK_SECONDS = 0.002
"""How late a start may be and still count from the slot it was due at: an idle loop
sleeps in whole milliseconds, so a timer set for the slot fires up to about 1 ms late."""

RECENT_UPLOADS = 8
"""How many of a stream's latest uploads the full size is the largest of: enough that a
straggler's small batch between full ones does not lower it."""


@dataclass
class _Batch:
    deadline: float  # when it opened, plus the window
    rows: list[Mapping[str, Any]] = field(default_factory=list)
    waiters: list[tuple[int, int, asyncio.Future[list[Refused]]]] = field(default_factory=list)
    last_row: float = 0.0
    check: asyncio.TimerHandle | None = None


@dataclass
class _LoopStreams:
    """One event loop's open batches and, per stream, when its last upload started, the rows
    its uploads in flight hold, and the company (rows sent plus in flight) of its recent
    uploads, whose largest is the full size."""

    batches: dict[str, _Batch] = field(default_factory=dict)
    last_start: dict[str, float] = field(default_factory=dict)
    rows_in_flight: dict[str, int] = field(default_factory=dict)
    recent_company: dict[str, deque[int]] = field(default_factory=dict)
    full_size: dict[str, int] = field(default_factory=dict)  # absent: no burst seen yet


class Coalescer:
    """Shares uploads between concurrent callers on the same loop and stream.

    Args:
        upload: the blocking upload; it runs in a worker thread.
        window_seconds: the longest a row waits for company, and the time between the
            starts of two uploads to one stream (see ``counted_start``).
        quiet_seconds: a batch no row has joined for this long is sent (window allowing).
        max_rows: a batch this large is sent at once.
    """

    def __init__(
        self,
        upload: Upload,
        *,
        window_seconds: float,
        quiet_seconds: float = DEFAULT_QUIET_SECONDS,
        max_rows: int = 10_000,
    ) -> None:
        self._upload = upload
        self._window = window_seconds
        self._quiet = min(quiet_seconds, window_seconds)
        self._max_rows = max_rows
        # State per event loop: the Functions worker has one, tests make many.
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopStreams] = (
            weakref.WeakKeyDictionary()
        )
        # The last loop's state, looked up without building a weak reference per row.
        self._last: tuple[weakref.ref[asyncio.AbstractEventLoop], _LoopStreams] | None = None

    async def upload(self, stream: str, rows: Sequence[Mapping[str, Any]]) -> list[Refused]:
        """Send ``rows`` (with whatever else is pending); return this caller's refusals."""
        if not rows:
            return []
        loop = asyncio.get_running_loop()
        state = self._state(loop)
        now = loop.time()
        batch = state.batches.get(stream)
        if batch is None:
            batch = state.batches[stream] = _Batch(deadline=now + self._window)
            batch.check = loop.call_at(now + self._quiet, self._check, loop, stream, batch)
        batch.last_row = now
        waiter: asyncio.Future[list[Refused]] = loop.create_future()
        batch.waiters.append((len(batch.rows), len(rows), waiter))
        batch.rows.extend(rows)
        was_short = len(batch.rows) - len(rows) < state.full_size.get(stream, 0)
        if len(batch.rows) >= self._max_rows:
            self._start_flush(loop, state, stream, batch)
        elif was_short and self._full(state, stream, batch):
            self._check(loop, stream, batch)  # it just became full
        return await waiter

    def _state(self, loop: asyncio.AbstractEventLoop) -> _LoopStreams:
        last = self._last
        if last is not None and last[0]() is loop:
            return last[1]
        state = self._loops.get(loop)
        if state is None:
            state = self._loops[loop] = _LoopStreams()
        self._last = (weakref.ref(loop), state)
        return state

    def _check(self, loop: asyncio.AbstractEventLoop, stream: str, batch: _Batch) -> None:
        state = self._loops.get(loop)
        if state is None or state.batches.get(stream) is not batch:
            return  # already sent (it filled up)
        now = loop.time()
        last = state.last_start.get(stream)
        spaced = now if last is None else max(now, last + self._window)
        ready = now if self._full(state, stream, batch) else batch.last_row + self._quiet
        due = min(batch.deadline, max(ready, spaced))
        if due <= now:
            self._start_flush(loop, state, stream, batch)
            return
        if batch.check is not None:
            batch.check.cancel()  # a full batch moves its check earlier
        batch.check = loop.call_at(due, self._check, loop, stream, batch)

    def _full(self, state: _LoopStreams, stream: str, batch: _Batch) -> bool:
        """As many rows as the stream's recent company, and none of its uploads in flight."""
        full_size = state.full_size.get(stream, self._max_rows)
        return len(batch.rows) >= full_size and not state.rows_in_flight.get(stream)

    def _start_flush(
        self, loop: asyncio.AbstractEventLoop, state: _LoopStreams, stream: str, batch: _Batch
    ) -> None:
        del state.batches[stream]
        if batch.check is not None:
            batch.check.cancel()
        state.last_start[stream] = counted_start(
            state.last_start.get(stream), loop.time(), self._window
        )
        in_flight = state.rows_in_flight.get(stream, 0)
        company = state.recent_company.get(stream)
        if company is None:
            company = state.recent_company[stream] = deque(maxlen=RECENT_UPLOADS)
        company.append(len(batch.rows) + in_flight)
        largest = max(company)
        if largest > 1:
            state.full_size[stream] = largest
        else:
            state.full_size.pop(stream, None)
        state.rows_in_flight[stream] = in_flight + len(batch.rows)
        # The upload runs in a thread with the caller's context (log records keep the
        # function's name); no task in between, each costs the loop a few callbacks.
        context = contextvars.copy_context()
        future = loop.run_in_executor(None, context.run, self._upload, stream, batch.rows)
        future.add_done_callback(lambda done: self._settled(loop, state, stream, batch, done))

    def _settled(
        self,
        loop: asyncio.AbstractEventLoop,
        state: _LoopStreams,
        stream: str,
        batch: _Batch,
        done: asyncio.Future[list[Refused]],
    ) -> None:
        """Answer the upload's callers; a batch that waited only for it may now go."""
        state.rows_in_flight[stream] -= len(batch.rows)
        _settle(batch, done)
        waiting = state.batches.get(stream)
        if waiting is not None and self._full(state, stream, waiting):
            self._check(loop, stream, waiting)


def counted_start(last: float | None, now: float, window: float) -> float:
    """When an upload starting at ``now`` counts as started, for spacing the next one.

    A start at most ``TIMER_SLACK_SECONDS`` after its slot (the previous start plus the
    window) counts from the slot, so timer lateness does not lower the stream's rate:
    back-to-back starts keep a window apart on average and never come closer than the
    window less the slack. Any other start counts from when it happened.
    """
    if last is None:
        return now
    slot = last + window
    return slot if slot <= now <= slot + TIMER_SLACK_SECONDS else now


def _settle(batch: _Batch, done: asyncio.Future[list[Refused]]) -> None:
    """Give every waiter its own refusals, or the upload's error."""
    error = done.exception() if not done.cancelled() else asyncio.CancelledError()
    for start, count, waiter in batch.waiters:
        if waiter.done():
            continue
        if error is not None:
            waiter.set_exception(error)
        else:
            waiter.set_result(_slice(done.result(), start, count))


def _slice(refused: Sequence[Refused], start: int, count: int) -> list[Refused]:
    """The refusals for rows ``start .. start+count``, re-indexed from 0."""
    mine: list[Refused] = []
    for item in refused:
        pairs = [
            (index - start, row)
            for index, row in zip(
                item.indices, item.rows or (None,) * len(item.indices), strict=True
            )
            if start <= index < start + count
        ]
        if pairs:
            mine.append(
                Refused(
                    tuple(index for index, _ in pairs),
                    item.status,
                    item.retry_after,
                    item.reason,
                    item.permanent,
                    tuple(row for _, row in pairs if row is not None),
                )
            )
    return mine
