"""One poll's working state: each listed incident decided, delivered and tagged.

``poller.poll`` pages through the list and hands each page to a :class:`PollRun`, which
keeps what the poll has seen and done (records, deliveries, whether every incident is
done) and, per incident, reads what the destinations get (``whole``), delivers through the
forwarder and tags what was taken.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from shared.config.incidents import GRAPH_KIND, SIGNL4
from shared.errors import IncidentFormatError, UpstreamUnavailable
from shared.incidents.domain.augment import Augmentation
from shared.incidents.domain.merge import Change
from shared.incidents.domain.model import Incident, parse_arm_time
from shared.incidents.domain.payloads import signl4_body, webhook_body, webhook_id
from shared.incidents.domain.state import (
    Action,
    Forwarded,
    decide,
    first_record,
    pending_record,
)
from shared.incidents.forward import Delivery, Forwarder, envelope_for
from shared.incidents.sending import target_of
from shared.incidents.whole import read_whole
from shared.incidents.writeback import write

logger = logging.getLogger(__name__)
Extra = Augmentation | None
CONCURRENCY = 8


class PollRun:
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
