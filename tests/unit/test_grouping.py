"""Grouped hand-offs: concurrent webhooks' refused rows queued as one envelope (pure)."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.errors import IngestionFailed, Refused, UpstreamUnavailable
from shared.retrying.grouping import Handoff, HandoffGroups, pack
from shared.retrying.handoff import hand_off
from tests.fakes import FakeDeadLetters, FakeQueue

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TARGET = "sentinel:Custom-FigEvents"


def handoff(rows: list[dict[str, Any]], *, delay: float = 1.0, minutes_ago: int = 0) -> Handoff:
    return Handoff(
        source="fig",
        target=TARGET,
        rows=rows,
        first_seen=NOW - timedelta(minutes=minutes_ago),
        delay_seconds=delay,
        last_error=f"answered 503 after {delay}",
        last_status=503,
    )


def failure(
    rows: list[dict[str, Any]], *, status: int, retry_after: float | None
) -> IngestionFailed:
    refused = Refused(
        tuple(range(len(rows))),
        status,
        retry_after,
        f"answered {status}",
        permanent=status == 400,
        rows=tuple(rows),
    )
    return IngestionFailed("refused", refused=[refused], status=status, retry_after=retry_after)


def test_pack_keeps_every_row_the_earliest_time_and_the_longest_delay() -> None:
    """One envelope: rows in order, first_seen the earliest, delay and error of the longest."""
    envelope, delay = pack(
        [
            handoff([{"n": 1}], delay=2, minutes_ago=1),
            handoff([{"n": 2}, {"n": 3}], delay=9, minutes_ago=3),
            handoff([{"n": 4}], delay=4),
        ]
    )
    assert envelope.rows == [{"n": 1}, {"n": 2}, {"n": 3}, {"n": 4}]
    assert envelope.first_seen == NOW - timedelta(minutes=3)
    assert delay == 9
    assert envelope.last_error == "answered 503 after 9"
    assert (envelope.target, envelope.source, envelope.attempt) == (TARGET, "fig", 0)


def test_hand_offs_in_the_same_turn_share_one_message() -> None:
    """Three webhooks refused together: one enqueue holding all their rows; each sees it."""
    queue = FakeQueue()
    groups = HandoffGroups()

    async def run() -> list[Any]:
        return list(
            await asyncio.gather(*(groups.queue(queue, handoff([{"n": n}])) for n in range(3)))
        )

    envelopes = asyncio.run(run())
    assert len(queue) == 1
    ((queued, _),) = queue
    assert queued.rows == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert all(e is queued for e in envelopes)


def test_other_sources_and_targets_are_not_mixed() -> None:
    """A group holds one source and one target."""
    queue = FakeQueue()
    groups = HandoffGroups()
    other = Handoff(
        source="wallarm",
        target="sentinel:Custom-WallarmEvents",
        rows=[{"n": 9}],
        first_seen=NOW,
        delay_seconds=1,
        last_error="x",
        last_status=503,
    )

    async def run() -> None:
        await asyncio.gather(groups.queue(queue, handoff([{"n": 1}])), groups.queue(queue, other))

    asyncio.run(run())
    assert sorted(e.target for e, _ in queue) == [
        "sentinel:Custom-FigEvents",
        "sentinel:Custom-WallarmEvents",
    ]


def test_a_full_group_is_queued_without_waiting() -> None:
    """Reaching max_rows queues at once; later hand-offs start a new group."""
    queue = FakeQueue()
    groups = HandoffGroups(window_seconds=60, max_rows=2)

    async def run() -> None:
        await asyncio.gather(*(groups.queue(queue, handoff([{"n": n}])) for n in range(4)))

    asyncio.run(asyncio.wait_for(run(), timeout=5))
    assert [len(e.rows or []) for e, _ in queue] == [2, 2]


def test_storage_refusing_fails_every_member() -> None:
    """The queue is down: every webhook of the group learns it (and answers 503)."""
    queue = FakeQueue()
    queue.down = True
    groups = HandoffGroups()

    async def run() -> list[Any]:
        return list(
            await asyncio.gather(
                *(groups.queue(queue, handoff([{"n": n}])) for n in range(3)),
                return_exceptions=True,
            )
        )

    results = asyncio.run(run())
    assert len(results) == 3
    assert all(isinstance(r, UpstreamUnavailable) for r in results)
    assert queue == []


def test_hand_off_groups_transient_rows_and_dead_letters_permanent_ones_alone() -> None:
    """Through hand_off: 503s of two webhooks share a message; a 400 is dead-lettered apart."""
    queue, dead = FakeQueue(), FakeDeadLetters()
    groups = HandoffGroups()

    async def one(rows: list[dict[str, Any]], status: int) -> Any:
        return await hand_off(
            failure(rows, status=status, retry_after=30 if status == 503 else None),
            source="fig",
            stream="Custom-FigEvents",
            first_seen=NOW,
            queue=queue,
            dead_letters=dead,
            rng=random.Random(1),
            groups=groups,
        )

    async def run() -> list[Any]:
        return list(
            await asyncio.gather(
                one([{"n": 1}], 503), one([{"n": 2}, {"n": 3}], 503), one([{"n": 4}], 400)
            )
        )

    handed = asyncio.run(run())
    assert [(h.queued, h.dead_lettered) for h in handed] == [(1, 0), (2, 0), (0, 1)]
    ((queued, delay),) = queue
    assert queued.rows == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert delay >= 30  # Retry-After honoured
    assert [e.rows for e, _ in dead] == [[{"n": 4}]]


@pytest.mark.parametrize("groups", [None, HandoffGroups()])
def test_without_company_a_webhook_queues_its_own_envelope(groups: HandoffGroups | None) -> None:
    """Grouped or not, a lone webhook's rows are queued once, as before."""
    queue, dead = FakeQueue(), FakeDeadLetters()
    handed = asyncio.run(
        hand_off(
            failure([{"n": 1}], status=503, retry_after=None),
            source="fig",
            stream="Custom-FigEvents",
            first_seen=NOW,
            queue=queue,
            dead_letters=dead,
            rng=random.Random(1),
            groups=groups,
        )
    )
    assert handed.queued == 1
    assert [e.rows for e, _ in queue] == [[{"n": 1}]]
