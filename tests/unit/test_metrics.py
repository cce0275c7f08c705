"""Counters per window, their JSON form, the flusher's timing and the BridgeHealth_CL rows."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.config.platform import Platform
from shared.errors import UpstreamUnavailable
from shared.telemetry import metrics
from shared.telemetry.flush import MAX_FLUSH_AGE, Flusher
from shared.telemetry.metrics import (
    WINDOW,
    Counters,
    WindowCounts,
    decode_counts,
    encode_counts,
    rejected,
    window_start,
)
from shared.telemetry.rows import Gauges, StoredWindow, status_row, window_rows

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


class Clock:
    """A settable clock."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class FakeWriter(list[tuple[str, WindowCounts]]):
    """Records writes; ``down`` makes them fail like an outage."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    async def write(self, instance_id: str, window: WindowCounts) -> None:
        if self.down:
            raise UpstreamUnavailable("table down")
        self.append((instance_id, window))


def test_counts_from_many_threads_are_exact() -> None:
    """Eight threads counting 5,000 times each lose no count."""
    counters = Counters("a", clock=Clock())

    def work() -> None:
        for _ in range(5000):
            counters.count("fig", metrics.RECEIVED)
            counters.count("fig", rejected("Unauthorized"), 2)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counters.totals(T0) == {
        ("source", "fig", "received"): 40_000,
        ("source", "fig", "rejected:Unauthorized"): 80_000,
    }


def test_counts_go_to_the_window_of_their_time() -> None:
    """A count after the window ends starts the next window; the old one stays pending."""
    clock = Clock(T0 + timedelta(minutes=4, seconds=59))
    counters = Counters("a", clock=clock)
    counters.count("fig", metrics.ACCEPTED, 3)
    clock.now = T0 + WINDOW
    counters.count("fig", metrics.ACCEPTED)
    assert [(w.start, dict(w.counts)) for w in counters.pending()] == [
        (T0, {("source", "fig", "accepted"): 3}),
        (T0 + WINDOW, {("source", "fig", "accepted"): 1}),
    ]


@pytest.mark.parametrize(
    ("counter", "n", "kind"),
    [("recieved", 1, "source"), ("rejected:", 1, "source"), ("received", -1, "source")],
)
def test_unknown_counters_and_negative_counts_are_refused(counter: str, n: int, kind: str) -> None:
    """A typo or a negative count is a programming error, not a silent new column."""
    with pytest.raises(ValueError, match="bad count"):
        Counters("a", clock=Clock()).count("fig", counter, n, kind=kind)  # type: ignore[arg-type]


def test_a_completed_window_is_forgotten_once_stored_whole() -> None:
    """The current window stays after a flush; a completed one goes unless it changed since."""
    clock = Clock()
    counters = Counters("a", clock=clock)
    counters.count("fig", metrics.RECEIVED)
    [current] = counters.pending()
    counters.mark_flushed(current)
    assert counters.pending() == []
    assert counters.totals(T0)  # still counting into it
    counters.count("fig", metrics.RECEIVED)
    [stale] = counters.pending()
    counters.count("fig", metrics.RECEIVED)
    clock.now = T0 + WINDOW
    counters.mark_flushed(stale)  # an older snapshot: the window is still pending
    [fresh] = counters.pending()
    assert fresh.counts[("source", "fig", "received")] == 3
    counters.mark_flushed(fresh)
    assert counters.totals(T0) == {}


def test_windows_kept_are_bounded() -> None:
    """Past max_windows the oldest window is dropped and counted as dropped."""
    clock = Clock()
    counters = Counters("a", clock=clock, max_windows=2)
    for step in range(3):
        clock.now = T0 + step * WINDOW
        counters.count("fig", metrics.RECEIVED)
    assert [w.start for w in counters.pending()] == [T0 + WINDOW, T0 + 2 * WINDOW]
    assert counters.dropped_windows == 1


@given(st.datetimes(timezones=st.just(UTC)))
def test_window_start_floors_to_five_minutes(moment: datetime) -> None:
    """The window holds the moment and starts on a 5-minute boundary."""
    start = window_start(moment)
    assert start <= moment < start + WINDOW
    assert (start.minute % 5, start.second, start.microsecond) == (0, 0, 0)


def test_instance_ids_are_unique_per_process_on_one_instance() -> None:
    """Two processes on one host instance get different ids with the instance's prefix."""
    instance = Platform.from_env({"WEBSITE_INSTANCE_ID": "0123456789abcdef0123"}).instance_id
    first, second = metrics.new_instance_id(instance), metrics.new_instance_id(instance)
    assert first != second
    assert first.startswith("0123456789ab-")


_NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_-0123456789", min_size=1, max_size=20)
_COUNTER = st.sampled_from(
    [*sorted(metrics.COUNTERS), rejected("Unauthorized"), rejected("PayloadTooLarge")]
)
_KEY = st.tuples(st.sampled_from(sorted(metrics.KINDS)), _NAMES, _COUNTER)


@given(st.dictionaries(_KEY, st.integers(min_value=0, max_value=2**53)))
def test_counts_round_trip_through_json(counts: dict[metrics.Key, int]) -> None:
    """What encode_counts writes, decode_counts reads back unchanged."""
    assert decode_counts(encode_counts(counts)) == counts


def test_decoding_skips_what_it_does_not_know() -> None:
    """Unknown kinds, counters and non-counts are skipped, the rest is kept."""
    text = '{"source":{"fig":{"received":2,"bogus":1,"accepted":true}},"alien":{"x":{}}}'
    assert decode_counts(text) == {("source", "fig", "received"): 2}


def test_the_flusher_writes_at_once_then_waits_out_the_interval() -> None:
    """First poke writes now; the next within 30 s waits the rest of it; a new window does not."""
    clock, ticks, sleeps = Clock(), [100.0], list[float]()

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        ticks[0] += seconds

    async def scenario() -> None:
        counters = Counters("a", clock=clock)
        writer = FakeWriter()
        flusher = Flusher(counters, writer, monotonic=lambda: ticks[0], sleep=sleep, clock=clock)
        counters.count("fig", metrics.RECEIVED)
        flusher.poke()
        await flusher.wait()
        ticks[0] += 10
        counters.count("fig", metrics.RECEIVED)
        flusher.poke()
        flusher.poke()  # one task at a time
        await flusher.wait()
        clock.now = T0 + WINDOW
        counters.count("fig", metrics.RECEIVED)
        flusher.poke()
        await flusher.wait()
        assert [w.counts[("source", "fig", "received")] for _, w in writer] == [1, 2, 1]
        assert sleeps == [20.0]
        assert counters.pending() == []

    asyncio.run(scenario())


def test_the_flusher_retries_while_storage_is_down_and_never_raises() -> None:
    """A poke during an outage raises nothing; counts stay pending and are written later."""
    clock, ticks = Clock(), [0.0]
    writer = FakeWriter()
    writer.down = True

    async def sleep(seconds: float) -> None:
        ticks[0] += seconds
        writer.down = False  # storage is back after one interval

    async def scenario() -> None:
        counters = Counters("a", clock=clock)
        flusher = Flusher(counters, writer, monotonic=lambda: ticks[0], sleep=sleep, clock=clock)
        counters.count("fig", metrics.RECEIVED)
        flusher.poke()
        await flusher.wait()
        assert len(writer) == 1
        assert counters.pending() == []

    asyncio.run(scenario())


def test_a_window_not_stored_in_time_is_dropped_not_written_late() -> None:
    """Totals older than MAX_FLUSH_AGE are dropped: the window may already be reported."""
    clock = Clock()
    counters = Counters("a", clock=clock)
    counters.count("fig", metrics.RECEIVED)
    clock.now = T0 + WINDOW + MAX_FLUSH_AGE + timedelta(seconds=1)
    counters.count("fig", metrics.RECEIVED)
    writer = FakeWriter()
    written = asyncio.run(Flusher(counters, writer, clock=clock).flush())
    assert written == 1
    assert [w.start for _, w in writer] == [window_start(clock.now)]
    assert counters.dropped_windows == 1


def test_window_rows_sum_processes_and_add_a_bridge_row() -> None:
    """Two processes' totals add up per source; the bridge row sums sources and has gauges."""
    window = StoredWindow(
        T0,
        {
            "a": {
                ("source", "fig", "received"): 3,
                ("source", "fig", "rejected:Unauthorized"): 1,
                ("destination", "jira", "failed"): 2,
            },
            "b": {("source", "fig", "received"): 4, ("source", "wallarm", "accepted"): 5},
        },
    )
    gauges = Gauges(queue_depth=7, dead_letter_count=1, oldest_queued_age_seconds=12.5)
    rows = window_rows(window, bridge="br", gauges=gauges, reported_at=T0 + 2 * WINDOW)
    by_name = {(r["Kind"], r["Name"]): r for r in rows}
    assert set(by_name) == {("source", "fig"), ("source", "wallarm"), ("destination", "jira")} | {
        ("bridge", "br")
    }
    fig = by_name[("source", "fig")]
    assert (fig["Received"], fig["Rejected"]) == (7, 1)
    assert fig["RejectedByReason"] == {"Unauthorized": 1}
    assert fig["InstanceCount"] == 2
    assert fig["TimeGenerated"] == "2026-11-23T12:05:00Z"
    bridge = by_name[("bridge", "br")]
    assert (bridge["Received"], bridge["Accepted"], bridge["Failed"]) == (7, 5, 0)
    assert (bridge["QueueDepth"], bridge["DeadLetterCount"]) == (7, 1)
    assert bridge["OldestQueuedAgeSeconds"] == 12.5
    assert bridge["InstanceCount"] == 2


def test_event_ids_depend_on_the_window_not_on_the_totals() -> None:
    """A window re-sent with other totals keeps its EventIds; another window gets others."""

    def ids(start: datetime, received: int) -> list[str]:
        window = StoredWindow(start, {"a": {("source", "fig", "received"): received}})
        rows = window_rows(window, bridge="br", gauges=Gauges(), reported_at=T0)
        return [r["EventId"] for r in rows]

    assert ids(T0, 1) == ids(T0, 2)
    assert set(ids(T0, 1)).isdisjoint(ids(T0 + WINDOW, 1))


def test_a_status_row_fits_the_table() -> None:
    """A destination disabled becomes one row with Kind, Name, Status and Message."""
    row = status_row(
        bridge="br", kind="destination", name="jira", status="disabled", message="62% failed", at=T0
    )
    assert (row["Kind"], row["Status"], row["TimeGenerated"]) == (
        "destination",
        "disabled",
        "2026-11-23T12:00:00Z",
    )


def test_counts_made_together_land_together_and_zeros_are_not_kept() -> None:
    """count_each: one version step for everything a request counts; a zero adds no key."""
    clock = Clock(T0)
    counters = Counters("a", clock=clock)
    counters.count_each("fig", {metrics.RECEIVED: 1, metrics.ACCEPTED: 3, metrics.QUEUED: 0})
    clock.now = T0 + WINDOW + timedelta(seconds=1)
    counters.count_each("fig", {metrics.ACCEPTED: 2})
    assert [(w.start, w.version, dict(w.counts)) for w in counters.pending()] == [
        (T0, 1, {("source", "fig", "received"): 1, ("source", "fig", "accepted"): 3}),
        (T0 + WINDOW, 1, {("source", "fig", "accepted"): 2}),
    ]


def test_a_clock_that_steps_back_counts_in_the_earlier_window() -> None:
    """The remembered window is only used while the clock is inside it."""
    clock = Clock(T0 + WINDOW)
    counters = Counters("a", clock=clock)
    counters.count("fig", metrics.ACCEPTED)
    clock.now = T0 + timedelta(minutes=1)
    counters.count("fig", metrics.ACCEPTED)
    assert [w.start for w in counters.pending()] == [T0, T0 + WINDOW]


def test_a_bad_count_among_several_adds_none_of_them() -> None:
    """Checked before anything is added: a typo never leaves half a request counted."""
    counters = Counters("a", clock=Clock())
    with pytest.raises(ValueError, match="bad count"):
        counters.count_each("fig", {metrics.RECEIVED: 1, "recieved": 1})
    assert counters.pending() == []
