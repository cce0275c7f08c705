"""The per-function summary of HTTP invocations, with an injected clock."""

from __future__ import annotations

import logging

import pytest

from local.host.summary import InvocationSummary


class FakeClock:
    """Monotonic seconds that move only when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_counts_by_function_and_status_with_the_slowest_duration() -> None:
    """One line per function: total, each status in order, and the max duration."""
    clock = FakeClock()
    summary = InvocationSummary(clock=clock)
    for _ in range(23_400):
        summary.record("fig_webhook", 202, 3.0)
    for elapsed in (1.0, 40.2, 7.0):
        summary.record("fig_webhook", 401, elapsed)
    summary.record("other", 500, 12.0)
    clock.now += 10.0
    assert summary.lines() == [
        "fig_webhook: 23,403 invocations in the last 10 s: 202 x23,400, 401 x3; max 40 ms",
        "other: 1 invocations in the last 10 s: 500 x1; max 12 ms",
    ]


def test_each_window_starts_afresh() -> None:
    """A flushed window is not counted again; a quiet window gives no line."""
    clock = FakeClock()
    summary = InvocationSummary(clock=clock)
    summary.record("f", 200, 5.0)
    clock.now += 10.0
    assert len(summary.lines()) == 1
    clock.now += 10.0
    assert summary.lines() == []
    summary.record("f", 204, 1.0)
    clock.now += 4.0
    assert summary.lines() == ["f: 1 invocations in the last 4.0 s: 204 x1; max 1 ms"]


def test_the_first_invocation_sets_the_max() -> None:
    """The max is the slowest of the window, not of all time and not 0."""
    clock = FakeClock()
    summary = InvocationSummary(clock=clock)
    summary.record("f", 200, 90.0)
    summary.lines()
    summary.record("f", 200, 2.0)
    summary.record("f", 200, 3.0)
    assert summary.lines()[0].endswith("max 3 ms")


def test_flush_logs_each_line_at_info(caplog: pytest.LogCaptureFixture) -> None:
    """flush() writes the summary lines at INFO and nothing when nothing ran."""
    clock = FakeClock()
    summary = InvocationSummary(clock=clock)
    summary.record("f", 200, 1.0)
    clock.now += 10.0
    with caplog.at_level(logging.INFO, logger="local.host.summary"):
        summary.flush()
        summary.flush()
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.INFO, "f: 1 invocations in the last 10 s: 200 x1; max 1 ms")
    ]
