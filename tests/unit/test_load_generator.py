"""The bench's load generator: senders and events shared between processes, results merged."""

from __future__ import annotations

from bench.load import ProcessRun, merge, shares


def test_shares_are_whole_near_equal_and_sum_to_the_total() -> None:
    assert shares(5001, 2) == [2501, 2500]
    assert shares(3, 3) == [1, 1, 1]
    assert shares(2, 3) == [1, 1, 0]


def test_merge_spans_the_first_start_to_the_last_end_so_rates_add_up() -> None:
    runs = [
        ProcessRun(10.0, 12.0, 0.5, [3, 1], [[0.1] * 3, [0.2]], [{200: 3}, {200: 1}]),
        ProcessRun(10.5, 14.0, 0.25, [2, 2], [[0.3] * 2, [0.4] * 2], [{200: 1, 500: 1}, {}]),
    ]

    first, second = merge(runs, idle=0.2)

    assert (first.events, second.events) == (5, 3)
    assert first.seconds == second.seconds == 4.0
    assert first.rate + second.rate == 2.0
    assert first.statuses == {200: 4, 500: 1}
    assert sorted(second.latencies) == [0.2, 0.4, 0.4]
    assert first.generator_cpu == 0.75
    assert first.idle == 0.2
