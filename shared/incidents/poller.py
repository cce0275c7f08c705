"""The incident poller: one timer run lists what changed and forwards it (see ``query``).

For each listed incident, :func:`~shared.incidents.domain.state.decide` says what to do:
forward a new match to every enabled destination, tell the destinations an incident went
to what changed (SIGNL4 only hears of a close, as ``X-S4-Status: resolved``), note the
bridge's own writes (echoes), or skip a version already handled. Each delivery goes
through :class:`~shared.incidents.forward.Forwarder` (delivered, queued or dead-lettered);
then the incident is tagged with the label of every destination that took it, in one
write. An incident is *done* when every delivery is delivered or durably stored; the
watermark moves only after a poll in which every listed incident was done.

ARM budget: the list reports ``x-ms-ratelimit-remaining-subscription-reads``; under
``AUGMENT_MIN_READS`` the alerts and entities are left out, under ``STOP_READS`` the poll
stops after the current page (the rest waits for the next poll). A 429 or any ARM error
ends the poll the same way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from shared.config.incidents import SIGNL4
from shared.errors import SecretMissing, UpstreamUnavailable
from shared.incidents.domain import query
from shared.incidents.domain.state import (
    Forwarded,
    expired,
)
from shared.incidents.forward import Forwarder
from shared.incidents.poll_run import PollRun
from shared.incidents.ports import PollMarks

logger = logging.getLogger(__name__)

AUGMENT_MIN_READS = 200
STOP_READS = 25


@dataclass
class PollResult:
    """What one poll did (for the log, tests and the benchmark)."""

    listed: int = 0
    pages: int = 0
    actions: dict[str, int] = field(default_factory=dict)
    deliveries: dict[str, int] = field(default_factory=dict)
    complete: bool = False
    swept: bool = False
    watermark: datetime | None = None
    reason: str = ""
    remaining_reads: int | None = None
    """What the last page said was left of ARM's read quota (None: not reported)."""


async def destinations(forwarder: Forwarder) -> tuple[str, ...]:
    """The enabled destinations: SIGNL4 while its team secret exists, and every webhook.

    Raises:
        UpstreamUnavailable: Key Vault cannot say (and nothing is cached).
    """
    found: list[str] = []
    try:
        await forwarder.secrets.get(forwarder.settings.signl4_team_secret_name)
        found.append(SIGNL4)
    except SecretMissing:
        pass
    return (*found, *(w.name for w in forwarder.settings.webhooks))


async def poll(
    forwarder: Forwarder,
    *,
    now: datetime,
    augment: bool = True,
    sweep: bool | None = None,
    page_size: int = query.PAGE_SIZE,
) -> PollResult:
    """One poll (see the module docstring).

    Args:
        forwarder: the adapters.
        now: the time of the poll (aware).
        augment: add alerts and entities to new incidents (two ARM calls each).
        sweep: read the whole window; None: when the last sweep is an hour old.
        page_size: ``$top`` (at most 1000).
    """
    result = PollResult()
    settings = forwarder.settings
    if not settings.enabled:
        result.reason = "no incident source configured"
        return result
    marks = await forwarder.state.marks()
    result.swept = query.sweep_due(now, marks.last_sweep) if sweep is None else sweep
    since = query.list_since(now, marks.watermark, settings.max_age, sweep=result.swept)
    augment = augment and settings.augment  # INCIDENT_AUGMENT
    run = PollRun(forwarder, now, await destinations(forwarder), augment)
    run.records = await forwarder.state.all_forwarded()
    server_time: datetime | None = None
    next_link: str | None = None
    complete = False
    try:
        while True:
            page = await forwarder.api.list_page(
                filter=query.list_filter(since),
                orderby=query.ORDER_BY,
                top=page_size,
                next_link=next_link,
            )
            result.pages += 1
            server_time = server_time or page.server_time
            remaining = page.remaining_reads
            result.remaining_reads = remaining
            run.augment = augment and (remaining is None or remaining >= AUGMENT_MIN_READS)
            await run.page(page.incidents)
            next_link = page.next_link
            if next_link is None:
                complete = True
                break
            if remaining is not None and remaining < STOP_READS:
                result.reason = f"ARM reads nearly exhausted ({remaining} left)"
                break
    except UpstreamUnavailable as error:
        result.reason = error.message
        logger.warning("Incident poll ended early: %s", error.message)
    try:
        await forwarder.breaker_cache.flush(forwarder.state)
    except UpstreamUnavailable as error:
        logger.warning("Destination counts not stored: %s", error.message)
    result.listed, result.actions, result.deliveries = run.listed, run.actions, run.deliveries
    result.complete = complete and run.all_done
    if result.complete:
        watermark = query.next_watermark(
            marks.watermark, run.seen_times, server_time=server_time, unstable=run.unstable
        )
        await forwarder.state.save_marks(
            PollMarks(watermark, now if result.swept else marks.last_sweep)
        )
        result.watermark = watermark
        if result.swept:
            await _forget_expired(forwarder, run.records, now)
    else:
        result.watermark = marks.watermark
        result.reason = result.reason or "some deliveries could not be stored"
    logger.info(
        "Incident poll: %d listed in %d page(s), actions %s, deliveries %s, complete %s",
        result.listed,
        result.pages,
        result.actions,
        result.deliveries,
        result.complete,
    )
    return result


async def _forget_expired(
    forwarder: Forwarder, records: dict[str, Forwarded], now: datetime
) -> None:
    """On a sweep: drop the records of incidents closed more than 30 days ago."""
    for record in [r for r in records.values() if expired(r, now)]:
        try:
            await forwarder.state.forget_forwarded(record.name)
        except UpstreamUnavailable as error:
            logger.warning("Record of %s kept: %s", record.name, error.message)
            return
