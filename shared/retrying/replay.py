"""Listing dead letters and putting them back on the retry queue (CLI: ``shared.retrying``).

A replayed dead letter is queued as a fresh delivery of the same envelope (same id, same
rows): ``attempt`` back to 0, ``last_error`` and ``last_status`` cleared, and
``first_seen`` set to the replay time. The retry budget counts from ``first_seen``, so
without that a replay of anything older than the budget would be dead-lettered again on
its first failure. What the original time was stays in the rows (``ReceivedTime``,
``EventTime``) and in the log line written for each replay. Rows whose ``TimeGenerated``
is too old by then are re-stamped by the worker (``shared.retrying.worker``).

The dead letter is deleted only once the queue has taken the envelope; if that delete
fails, the report says so and the event may arrive twice (same ``EventId``), never not
at all. Undecodable messages cannot be replayed and are reported as such.

Run by hand with the app's settings in the environment (``AzureWebJobsStorage`` and the
``RETRY_*`` / ``DEAD_LETTER_CONTAINER`` settings)::

    python -m shared.retrying list [--target sentinel:Custom-FigEvents] [--limit 100]
    python -m shared.retrying NAME [NAME ...]
    python -m shared.retrying --all [--target sentinel:Custom-FigEvents]
    python -m shared.retrying poison [--limit 500]

``poison`` moves what the Functions host put in ``<RETRY_QUEUE_NAME>-poison`` (messages
the worker failed on ``maxDequeueCount`` times because storage failed under it) back
onto the retry queue, once storage is healthy again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.errors import EnvelopeError, UpstreamUnavailable
from shared.ports import RetryQueue

if TYPE_CHECKING:  # the storage SDK is imported on first use, not when the app is indexed
    from shared.adapters.deadletters import BlobDeadLetters

logger = logging.getLogger(__name__)

MAX_REPLAY = 500
"""The most dead letters one replay call takes on; run it again for more."""


@dataclass
class ReplayReport:
    """What a replay did with each name it was given."""

    replayed: list[str] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    not_replayable: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    replayed_not_deleted: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """JSON-ready, for the admin route and the CLI."""
        return {
            "replayed": self.replayed,
            "notFound": self.not_found,
            "notReplayable": self.not_replayable,
            "failed": self.failed,
            "replayedNotDeleted": self.replayed_not_deleted,
        }


async def list_dead_letters(
    store: BlobDeadLetters, *, limit: int = 100, target: str | None = None
) -> dict[str, Any]:
    """The first ``limit`` dead letters (optionally of one target) and the counts of all.

    Raises:
        UpstreamUnavailable: storage did not answer.
    """
    counts = await store.counts()
    listed = await store.list(limit, target=target)
    return {
        "count": sum(counts.values()),
        "byTarget": counts,
        "deadLetters": [summary.as_json() for summary in listed],
    }


async def replay(
    store: BlobDeadLetters,
    queue: RetryQueue,
    *,
    names: Sequence[str] = (),
    replay_all: bool = False,
    target: str | None = None,
    now: datetime,
) -> ReplayReport:
    """Put dead letters back on the retry queue (see the module docstring).

    Args:
        store: the dead letters.
        queue: the retry queue.
        names: the dead letters to replay.
        replay_all: replay every replayable dead letter (up to ``MAX_REPLAY``), or every
            one of ``target`` if given; ``names`` is then ignored.
        target: with ``replay_all``, only this target (``sentinel:Custom-FigEvents``).
        now: the replay time: the envelopes' new ``first_seen``.

    Raises:
        ValueError: a name is not a dead letter's name.
        UpstreamUnavailable: the dead letters could not be listed.
    """
    from shared.adapters.deadletters import is_dead_letter_name

    if replay_all:
        listed = await store.list(MAX_REPLAY, target=target)
        names = [summary.name for summary in listed if summary.kind == "dead-letter"]
    for name in names:
        if not is_dead_letter_name(name):
            raise ValueError("not a dead letter's name")
    report = ReplayReport()
    for name in names[:MAX_REPLAY]:
        await _replay_one(store, queue, name, now, report)
    return report


async def _replay_one(
    store: BlobDeadLetters, queue: RetryQueue, name: str, now: datetime, report: ReplayReport
) -> None:
    try:
        dead = await store.get(name)
    except UpstreamUnavailable:
        report.failed.append(name)
        return
    if dead is None:
        report.not_found.append(name)
        return
    try:
        envelope = dead.envelope() if dead.replayable else None
    except EnvelopeError:
        envelope = None
    if envelope is None:
        report.not_replayable.append(name)
        return
    fresh = replace(envelope, attempt=0, first_seen=now, last_error=None, last_status=None)
    try:
        await queue.enqueue(fresh)
    except UpstreamUnavailable:
        report.failed.append(name)
        return
    logger.info(
        "Replayed dead letter %s: %s for %s, first seen %s, back on the retry queue",
        name,
        envelope.id,
        envelope.target,
        envelope.first_seen.isoformat(),
    )
    try:
        deleted = await store.delete(name)
    except UpstreamUnavailable:
        deleted = False
    (report.replayed if deleted else report.replayed_not_deleted).append(name)
