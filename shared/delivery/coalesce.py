"""Coalescing: rows from concurrent webhooks on one event loop share uploads.

Webhooks arrive one event at a time, and one request per event wastes the DCR's 12,000
requests a minute. Async functions in one worker process share an event loop, so rows
for the same stream that arrive within a few milliseconds of each other are sent in the
same packed requests. Each caller still waits for its own rows' outcome, and sees only
its own refusals, so no webhook is answered before its rows were accepted (or refused).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.errors import Refused

Upload = Callable[[str, Sequence[Mapping[str, Any]]], list[Refused]]
"""A blocking upload of rows to a stream, returning what was refused by row index."""


@dataclass
class _Batch:
    rows: list[Mapping[str, Any]] = field(default_factory=list)
    waiters: list[tuple[int, int, asyncio.Future[list[Refused]]]] = field(default_factory=list)
    flushing: asyncio.TimerHandle | None = None


class Coalescer:
    """Shares uploads between concurrent callers on the same loop and stream.

    Args:
        upload: the blocking upload; it runs in a worker thread.
        window_seconds: how long the first row of a batch waits for company.
        max_rows: a batch this large is sent at once.
    """

    def __init__(self, upload: Upload, *, window_seconds: float, max_rows: int = 10_000) -> None:
        self._upload = upload
        self._window = window_seconds
        self._max_rows = max_rows
        # Batches per event loop: the Functions worker has one, tests make many.
        self._batches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, _Batch]] = (
            weakref.WeakKeyDictionary()
        )

    async def upload(self, stream: str, rows: Sequence[Mapping[str, Any]]) -> list[Refused]:
        """Send ``rows`` (with whatever else is pending); return this caller's refusals."""
        if not rows:
            return []
        loop = asyncio.get_running_loop()
        batches = self._batches.setdefault(loop, {})
        batch = batches.get(stream)
        if batch is None:
            batch = batches[stream] = _Batch()
            batch.flushing = loop.call_later(self._window, self._start_flush, loop, stream)
        waiter: asyncio.Future[list[Refused]] = loop.create_future()
        batch.waiters.append((len(batch.rows), len(rows), waiter))
        batch.rows.extend(rows)
        if len(batch.rows) >= self._max_rows:
            self._start_flush(loop, stream)
        return await waiter

    def _start_flush(self, loop: asyncio.AbstractEventLoop, stream: str) -> None:
        batch = self._batches.get(loop, {}).pop(stream, None)
        if batch is None:
            return
        if batch.flushing is not None:
            batch.flushing.cancel()
        task = loop.create_task(self._flush(stream, batch))
        _RUNNING.add(task)
        task.add_done_callback(_RUNNING.discard)

    async def _flush(self, stream: str, batch: _Batch) -> None:
        try:
            refused = await asyncio.to_thread(self._upload, stream, batch.rows)
        except Exception as error:  # noqa: BLE001 - every waiter must learn of it
            for _, _, waiter in batch.waiters:
                if not waiter.done():
                    waiter.set_exception(error)
            return
        for start, count, waiter in batch.waiters:
            if not waiter.done():
                waiter.set_result(_slice(refused, start, count))


_RUNNING: set[asyncio.Task[None]] = set()  # keep flush tasks referenced until they finish


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
