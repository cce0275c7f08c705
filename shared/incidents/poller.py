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

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.config.incidents import GRAPH_KIND, SIGNL4
from shared.errors import IncidentFormatError, SecretMissing, UpstreamUnavailable
from shared.incidents.domain import query
from shared.incidents.domain.augment import Augmentation
from shared.incidents.domain.merge import Change
from shared.incidents.domain.model import Incident, parse_arm_time
from shared.incidents.domain.payloads import signl4_body, webhook_body, webhook_id
from shared.incidents.domain.state import (
    Action,
    Forwarded,
    decide,
    expired,
    first_record,
    pending_record,
)
from shared.incidents.forward import Delivery, Forwarder, envelope_for
from shared.incidents.ports import PollMarks
from shared.incidents.sending import target_of
from shared.incidents.whole import read_whole
from shared.incidents.writeback import write

logger = logging.getLogger(__name__)
Extra = Augmentation | None

AUGMENT_MIN_READS = 200
STOP_READS = 25
CONCURRENCY = 8


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
    run = _Run(forwarder, now, await destinations(forwarder), augment)
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


class _Run:
    """One poll's working state."""

    def __init__(
        self, forwarder: Forwarder, now: datetime, enabled: tuple[str, ...], augment: bool
    ) -> None:
        self.forwarder = forwarder
        self.now = now
        self.enabled = enabled
        self.augment = augment
        self.records: dict[str, Forwarded] = {}
        self.seen: set[str] = set()
        self.seen_times: list[datetime] = []
        self.unstable = False
        self.all_done = True
        self.listed = 0
        self.actions: dict[str, int] = {}
        self.deliveries: dict[str, int] = {}
        self._limit = asyncio.Semaphore(CONCURRENCY)

    async def page(self, items: list[dict[str, Any]]) -> None:
        incidents: list[Incident] = []
        for raw in items:
            try:
                incident = Incident.of(raw)
            except IncidentFormatError as error:
                logger.warning("Skipped a listed incident: %s", error)
                continue
            key = incident.name.lower()
            if key in self.seen:
                self.unstable = True  # listed twice in one poll: pages shifted under updates
            self.seen.add(key)
            self.seen_times.append(incident.last_modified)
            incidents.append(incident)
        self.listed += len(incidents)
        done = await asyncio.gather(*(self._one(incident) for incident in incidents))
        self.all_done = self.all_done and all(done)

    async def _one(self, incident: Incident) -> bool:
        async with self._limit:
            try:
                return await self._handle(incident)
            except UpstreamUnavailable as error:
                logger.warning("Incident %s not handled: %s", incident.name, error.message)
                return False
            except ValueError as error:  # an answer not shaped like an incident, a bad payload
                logger.error("Incident %s not handled: %s", incident.name, error)
                return False

    async def _handle(self, incident: Incident) -> bool:
        key = incident.name.lower()
        record = self.records.get(key)
        action = decide(incident, record, self.forwarder.settings, self.now)
        self.actions[action.value] = self.actions.get(action.value, 0) + 1
        if action in (Action.SEEN, Action.IGNORE):
            return True
        state = self.forwarder.state
        if action is Action.ECHO and record is not None:
            self.records[key] = record.handled(incident)
            await state.save_forwarded(self.records[key])
            return True
        first = action is Action.CREATE
        targets = self._targets(incident, record, first=first)
        since = None if first or record is None else parse_arm_time(record.version)
        extra = await self._augmentation(incident, since) if targets else None
        if first and targets:
            await state.save_forwarded(pending_record(incident, tuple(targets)))
        taken: list[str] = []
        for destination in targets:
            envelope = envelope_for(
                target_of(destination),
                self._payload(incident, destination, extra, first=first),
                first_seen=self.now,
            )
            outcome = await self.forwarder.attempt(envelope, now=self.now)  # raises: not done
            self.deliveries[outcome.value] = self.deliveries.get(outcome.value, 0) + 1
            if outcome is Delivery.DELIVERED:
                taken.append(destination)
        updated = (record or first_record(incident)).handled(incident)
        updated = updated.with_destinations(tuple(targets))
        labels = tuple(
            tag for tag in (self.forwarder.settings.tag_of(d) for d in taken) if tag is not None
        )
        if labels:  # SIGNL4_TAG empty and WEBHOOK_TAGS false: nothing is written
            written = await self._tag(incident, labels)
            if written is not None:
                updated = updated.with_own_write(written)
        self.records[key] = updated
        await state.save_forwarded(updated)
        return True

    def _targets(self, incident: Incident, record: Forwarded | None, *, first: bool) -> list[str]:
        if first or record is None:
            return list(self.enabled)
        closed = incident.text("status") == "Closed"
        return [
            d
            for d in record.destinations
            if d in self.enabled and (d != SIGNL4 or (closed and record.status != "Closed"))
        ]

    def _payload(
        self, incident: Incident, destination: str, extra: Augmentation | None, *, first: bool
    ) -> dict[str, Any]:
        settings = self.forwarder.settings
        external = settings.external_id(incident.name)
        payload: dict[str, Any] = {
            "incident": incident.name,
            "version": incident.last_modified_text,
            "label": destination,
        }
        if not settings.is_default:
            payload["source"] = settings.source_id
        if destination == SIGNL4:
            system = "Defender XDR" if settings.kind == GRAPH_KIND else "Sentinel"
            body = signl4_body(incident, extra, external_id=external, system=system)
            return payload | {"body": body}
        source = (settings.source_id, settings.kind)
        body = webhook_body(incident, extra, first=first, source=source)
        return payload | {"webhookId": webhook_id(incident, external), "body": body}

    async def _augmentation(self, incident: Incident, since: datetime | None) -> Extra:
        if not self.augment:
            return None
        try:
            return await read_whole(
                self.forwarder.api,
                incident.name,
                since,
                search=self.forwarder.search,
                now=self.now,
            )
        except UpstreamUnavailable as error:
            logger.warning("Incident %s sent without alerts/entities: %s", incident.name, error)
            return None

    async def _tag(self, incident: Incident, labels: tuple[str, ...]) -> Incident | None:
        try:
            return await write(
                self.forwarder.api, incident.name, Change(add_labels=labels), current=incident
            )
        except UpstreamUnavailable as error:
            logger.warning("Incident %s not tagged: %s", incident.name, error.message)
            return None
