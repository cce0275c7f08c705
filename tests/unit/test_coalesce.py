"""Coalescing concurrent senders into shared uploads, each told only of its own rows."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from shared.delivery.coalesce import TIMER_SLACK_SECONDS, Coalescer, counted_start
from shared.errors import Refused


class Recorder:
    """A blocking upload that records batches and refuses rows whose value is 'bad'."""

    def __init__(self) -> None:
        self.batches: list[list[Mapping[str, Any]]] = []

    def __call__(self, stream: str, rows: Sequence[Mapping[str, Any]]) -> list[Refused]:
        self.batches.append(list(rows))
        bad = [i for i, row in enumerate(rows) if row["v"] == "bad"]
        if not bad:
            return []
        return [Refused(tuple(bad), 429, 3, "throttled", False, tuple(dict(rows[i]) for i in bad))]


async def _send_all(
    coalescer: Coalescer, groups: list[list[dict[str, Any]]]
) -> list[list[Refused]]:
    return list(await asyncio.gather(*(coalescer.upload("Custom-X", rows) for rows in groups)))


def test_concurrent_callers_share_one_upload() -> None:
    """Three callers within the window: one upload with all their rows, in order."""
    recorder = Recorder()
    coalescer = Coalescer(recorder, window_seconds=0.01)
    groups = [[{"v": "a"}], [{"v": "b"}, {"v": "c"}], [{"v": "d"}]]
    results = asyncio.run(_send_all(coalescer, groups))
    assert recorder.batches == [[{"v": "a"}, {"v": "b"}, {"v": "c"}, {"v": "d"}]]
    assert results == [[], [], []]


def test_each_caller_sees_only_its_own_refusals() -> None:
    """A refused row is reported to its sender, re-indexed to its own batch."""
    recorder = Recorder()
    coalescer = Coalescer(recorder, window_seconds=0.01)
    groups = [[{"v": "a"}], [{"v": "b"}, {"v": "bad"}], [{"v": "d"}]]
    results = asyncio.run(_send_all(coalescer, groups))
    assert results[0] == results[2] == []
    (mine,) = results[1]
    assert mine.indices == (1,)
    assert mine.rows == ({"v": "bad"},)
    assert (mine.status, mine.retry_after, mine.permanent) == (429, 3, False)


def test_a_full_batch_is_sent_without_waiting_for_the_window() -> None:
    """Reaching max_rows flushes at once; the rest starts a new batch."""
    recorder = Recorder()
    coalescer = Coalescer(recorder, window_seconds=60, max_rows=2)

    async def scenario() -> None:
        await asyncio.wait_for(coalescer.upload("Custom-X", [{"v": "a"}, {"v": "b"}]), 5)

    asyncio.run(scenario())
    assert recorder.batches == [[{"v": "a"}, {"v": "b"}]]


def test_an_upload_that_raises_fails_every_waiter() -> None:
    """An unexpected error reaches every caller instead of leaving one hanging."""

    def broken(stream: str, rows: Sequence[Mapping[str, Any]]) -> list[Refused]:
        raise RuntimeError("boom")

    coalescer = Coalescer(broken, window_seconds=0.01)

    async def scenario() -> tuple[BaseException | list[Refused], ...]:
        return await asyncio.gather(
            coalescer.upload("Custom-X", [{"v": 1}]),
            coalescer.upload("Custom-X", [{"v": 2}]),
            return_exceptions=True,
        )

    outcomes = asyncio.run(scenario())
    assert all(isinstance(o, RuntimeError) for o in outcomes)


def test_streams_are_batched_separately() -> None:
    """Rows for different streams never share a request."""
    recorder = Recorder()
    coalescer = Coalescer(recorder, window_seconds=0.01)

    async def scenario() -> None:
        await asyncio.gather(
            coalescer.upload("Custom-A", [{"v": "a"}]), coalescer.upload("Custom-B", [{"v": "b"}])
        )

    asyncio.run(scenario())
    assert sorted(map(str, recorder.batches)) == ["[{'v': 'a'}]", "[{'v': 'b'}]"]


@pytest.mark.parametrize("window", [0.001, 0.02])
def test_nothing_is_lost_or_duplicated(window: float) -> None:
    """Fifty concurrent callers: every row uploaded exactly once."""
    recorder = Recorder()
    coalescer = Coalescer(recorder, window_seconds=window)
    groups = [[{"v": f"{i}-{j}"} for j in range(i % 3 + 1)] for i in range(50)]
    asyncio.run(_send_all(coalescer, groups))
    sent = [row["v"] for batch in recorder.batches for row in batch]
    assert sorted(sent) == sorted(row["v"] for rows in groups for row in rows)


def test_a_burst_is_sent_once_it_is_over_not_when_the_window_ends() -> None:
    """Quiet rule: with a 60 s window, rows that arrived together go as soon as no more
    join them (the guard is a timeout, not a measurement)."""
    recorder = Recorder()
    coalescer = Coalescer(recorder, window_seconds=60, quiet_seconds=0.001)
    groups = [[{"v": "a"}], [{"v": "b"}]]

    async def scenario() -> list[list[Refused]]:
        return await asyncio.wait_for(_send_all(coalescer, groups), 5)

    assert asyncio.run(scenario()) == [[], []]
    assert recorder.batches == [[{"v": "a"}, {"v": "b"}]]


class _HandOffClock(ThreadPoolExecutor):
    """The default executor, noting the loop's clock when an upload is handed to it.

    That is the moment the coalescer's spacing is about: when the upload thread then
    gets to run is up to the machine (a busy CI runner once delayed the first of three
    by more than the other two, which a clock read inside the upload took for a gap
    shorter than the window).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(max_workers=1)
        self.handed_off: list[float] = []
        self._loop = loop

    @classmethod
    def install(cls) -> _HandOffClock:
        """One for the running loop, made its default executor."""
        loop = asyncio.get_running_loop()
        executor = cls(loop)
        loop.set_default_executor(executor)
        return executor

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        self.handed_off.append(self._loop.time())
        return super().submit(fn, *args, **kwargs)


def test_uploads_to_a_stream_start_at_least_a_window_apart() -> None:
    """Spacing: a batch that is ready sooner waits for the window since the previous
    upload started (by the loop's own clock, which schedules it)."""
    window = 0.05
    coalescer = Coalescer(lambda stream, rows: [], window_seconds=window, quiet_seconds=0.001)

    async def scenario() -> list[float]:
        executor = _HandOffClock.install()
        for value in "abc":
            await asyncio.wait_for(coalescer.upload("Custom-X", [{"v": value}]), 5)
        return executor.handed_off

    starts = asyncio.run(scenario())
    assert len(starts) == 3
    # A late start counts from its slot (``counted_start``), so the next may come up to the
    # slack sooner; each hand-off is read a few calls after the coalescer's own reading,
    # and the 1 ms allows for those calls. Without the rule the gaps would be the 1 ms
    # quiet time.
    least = window - TIMER_SLACK_SECONDS - 0.001
    assert all(later - earlier >= least for earlier, later in itertools.pairwise(starts))


def test_a_start_late_by_the_timer_slack_counts_from_its_slot() -> None:
    """A timer fires up to a millisecond late; counting such a start from its slot keeps
    back-to-back uploads at the window's rate instead of the window plus the lateness."""
    window = 0.013
    slot = 1.0 + window

    assert counted_start(1.0, slot + TIMER_SLACK_SECONDS / 2, window) == slot
    assert counted_start(1.0, slot + TIMER_SLACK_SECONDS, window) == slot


def test_other_starts_count_from_when_they_happened() -> None:
    """The first start, one later than the slack (the stream was not busy), and one before
    its slot (a batch at the row limit goes at once) give no credit."""
    window = 0.013
    slot = 1.0 + window
    late = slot + TIMER_SLACK_SECONDS + 0.001

    assert counted_start(None, 5.0, window) == 5.0
    assert counted_start(1.0, late, window) == late
    assert counted_start(1.0, slot - 0.001, window) == slot - 0.001


def test_a_batch_as_large_as_the_last_burst_goes_without_waiting_for_quiet() -> None:
    """Full-batch rule: once a burst of three was sent, the next three rows (here one
    caller's one and another's two) are the whole burst: they go as soon as the spacing
    allows. Without the rule quiet equals the window, so they could not go sooner."""
    window = 0.3
    coalescer = Coalescer(lambda stream, rows: [], window_seconds=window, quiet_seconds=window)

    async def scenario() -> tuple[float, list[float]]:
        loop = asyncio.get_running_loop()
        executor = _HandOffClock.install()
        first = [[{"v": "a"}], [{"v": "b"}], [{"v": "c"}]]
        await asyncio.wait_for(_send_all(coalescer, first), 5)
        await asyncio.sleep(window)  # the spacing since the first upload has passed
        arrived = loop.time()
        await asyncio.wait_for(_send_all(coalescer, [[{"v": "d"}], [{"v": "e"}, {"v": "f"}]]), 5)
        return arrived, executor.handed_off

    arrived, handed_off = asyncio.run(scenario())
    assert len(handed_off) == 2
    assert handed_off[1] - arrived < window


def test_a_full_batch_waits_for_the_streams_upload_in_flight_then_goes() -> None:
    """While an upload of the stream is in flight its callers will send again, so a batch
    of the full size is not yet the whole burst: it goes when that upload settles, not
    before, and without waiting out the quiet gap after it."""
    window = 0.2
    release = threading.Event()

    def upload(stream: str, rows: Sequence[Mapping[str, Any]]) -> list[Refused]:
        if rows == [{"v": "slow"}]:
            release.wait(5)
        return []

    coalescer = Coalescer(upload, window_seconds=window, quiet_seconds=window)

    async def scenario() -> tuple[float, float, list[float]]:
        loop = asyncio.get_running_loop()
        executor = _HandOffClock.install()
        await asyncio.wait_for(_send_all(coalescer, [[{"v": "a"}], [{"v": "b"}], [{"v": "c"}]]), 5)
        await asyncio.sleep(window)
        slow = asyncio.ensure_future(coalescer.upload("Custom-X", [{"v": "slow"}]))
        await asyncio.sleep(2 * window)  # its quiet gap, then the spacing since its upload
        assert len(executor.handed_off) == 2  # the lone row's upload, hanging
        arrived = loop.time()
        full = asyncio.ensure_future(_send_all(coalescer, [[{"v": "d"}], [{"v": "e"}, {"v": "f"}]]))
        await asyncio.sleep(window / 10)
        released = loop.time()
        release.set()
        await asyncio.wait_for(asyncio.gather(slow, full), 5)
        return arrived, released, executor.handed_off

    arrived, released, handed_off = asyncio.run(scenario())
    assert len(handed_off) == 3
    assert released <= handed_off[2] < arrived + window


def test_a_smaller_batch_or_a_lone_row_still_waits_for_quiet() -> None:
    """A batch below the last burst's size waits for the quiet gap, and so does a lone
    row: a burst of one row sets no full size."""
    quiet = 0.05
    coalescer = Coalescer(lambda stream, rows: [], window_seconds=quiet, quiet_seconds=quiet)

    async def waits(groups: list[list[dict[str, Any]]], executor: _HandOffClock) -> float:
        await asyncio.sleep(quiet)  # the spacing since the previous upload has passed
        arrived = asyncio.get_running_loop().time()
        await asyncio.wait_for(_send_all(coalescer, groups), 5)
        return executor.handed_off[-1] - arrived

    async def scenario() -> list[float]:
        executor = _HandOffClock.install()
        alone = [await waits([[{"v": "lone"}]], executor) for _ in range(2)]
        await waits([[{"v": "a"}], [{"v": "b"}], [{"v": "c"}]], executor)
        return [*alone, await waits([[{"v": "d"}], [{"v": "e"}]], executor)]

    assert all(waited >= quiet for waited in asyncio.run(scenario()))


def test_other_streams_are_not_held_by_a_streams_spacing() -> None:
    """The spacing is per stream: another stream's first batch goes at once."""
    recorder = Recorder()
    coalescer = Coalescer(recorder, window_seconds=60, quiet_seconds=0.001)

    async def scenario() -> None:
        await asyncio.wait_for(coalescer.upload("Custom-A", [{"v": "a"}]), 5)
        await asyncio.wait_for(coalescer.upload("Custom-B", [{"v": "b"}]), 5)

    asyncio.run(scenario())
    assert recorder.batches == [[{"v": "a"}], [{"v": "b"}]]
