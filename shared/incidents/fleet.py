"""Every incident source's forwarder, and one timer tick that polls them all.

Each source of ``INCIDENT_SOURCES`` (``shared.config.incident_sources``) has its own
:class:`~shared.incidents.forward.Forwarder`: its API (a Sentinel workspace over ARM, or
Microsoft Graph's security incidents), its settings (filters, tag, destinations, SIGNL4
team) and its state (watermark, records, breakers). :func:`poll_all` polls them with
bounded concurrency; one failing (an outage, a 403, an exception) never stops the others.

ARM's read quota is per subscription: each poll reports what its pages said was left
(``x-ms-ratelimit-remaining-subscription-reads``), and a source whose subscription is
nearly out waits for the next tick instead of spending the rest.

SIGNL4 echoes the id it was sent (``X-S4-ExternalID``): ``<source>:<name>`` for every
source but ``default``, whose ids stay bare names, so callbacks for alerts sent before
there were several sources still find their incident (:meth:`IncidentFleet.resolve`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from shared.config.incidents import DEFAULT_SOURCE
from shared.errors import DestinationRefused
from shared.incidents.domain.state import Forwarded
from shared.incidents.forward import Forwarder
from shared.incidents.poller import STOP_READS, PollResult, poll
from shared.ports import SecretStore

logger = logging.getLogger(__name__)

SOURCE_CONCURRENCY = 8
"""How many sources are polled at once: 50 workspaces in a handful of waves, well inside
ARM's per-subscription read quota and the host's connection pool."""


@dataclass(frozen=True)
class IncidentFleet:
    """The sound sources' forwarders (in configured order) and the broken ones' problems."""

    forwarders: Mapping[str, Forwarder]
    off: Mapping[str, tuple[str, ...]]
    secrets: SecretStore
    callback_token_name: str
    case_source: str | None = None
    remaining_reads: dict[str, int] = field(default_factory=dict, compare=False)
    """The last remaining-reads figure ARM reported, per subscription."""

    def for_source(self, source_id: str) -> Forwarder:
        """The forwarder of ``source_id`` (``default``: the first source when none has that
        id, so deliveries queued before ``INCIDENT_SOURCES`` still find one).

        Raises:
            DestinationRefused: no such source (any more): the delivery cannot be made.
        """
        found = self.forwarders.get(source_id)
        if found is None and source_id == DEFAULT_SOURCE:
            found = self.default
        if found is None:
            raise DestinationRefused(f"incident source {source_id} is not configured")
        return found

    @property
    def default(self) -> Forwarder | None:
        """The ``default`` source's forwarder, else the first source's."""
        return self.forwarders.get(DEFAULT_SOURCE) or next(iter(self.forwarders.values()), None)

    async def resolve(self, external_id: str) -> tuple[Forwarder, Forwarded] | None:
        """The source and record of the incident SIGNL4 calls ``external_id``.

        ``<source>:<name>`` names its source; a bare name is the ``default`` source's (or,
        failing that, the first source that forwarded it).

        Raises:
            UpstreamUnavailable: the state cannot be read.
        """
        prefix, colon, rest = external_id.partition(":")
        if colon and prefix in self.forwarders:
            forwarder = self.forwarders[prefix]
            record = await forwarder.state.forwarded(rest)
            return (forwarder, record) if record is not None else None
        ordered = sorted(self.forwarders.items(), key=lambda item: item[0] != DEFAULT_SOURCE)
        for _, forwarder in ordered:
            record = await forwarder.state.forwarded(external_id)
            if record is not None:
                return forwarder, record
        return None


async def poll_all(
    fleet: IncidentFleet, *, now: datetime, concurrency: int = SOURCE_CONCURRENCY
) -> dict[str, PollResult]:
    """Poll every sound source once, ``concurrency`` at a time; each source's result.

    A source that raises is logged and reported (``reason``); the others go on.
    """
    gate = asyncio.Semaphore(concurrency)

    async def one(source_id: str, forwarder: Forwarder) -> PollResult:
        subscription = forwarder.settings.subscription_id
        async with gate:
            left = fleet.remaining_reads.get(subscription) if subscription else None
            if left is not None and left < STOP_READS:
                fleet.remaining_reads.pop(subscription, None)  # try again next tick
                result = PollResult(reason=f"ARM reads nearly exhausted ({left} left)")
                logger.warning("Incident source %s skipped: %s", source_id, result.reason)
                return result
            try:
                result = await poll(forwarder, now=now)
            except Exception as error:  # one source never stops the others
                logger.exception("Incident source %s failed", source_id)
                return PollResult(reason=f"{type(error).__name__}: {error}")
        if subscription and result.remaining_reads is not None:
            fleet.remaining_reads[subscription] = result.remaining_reads
        return result

    for source_id, problems in fleet.off.items():
        logger.error("Incident source %s is off: %s", source_id, "; ".join(problems))
    ids = list(fleet.forwarders)
    results = await asyncio.gather(*(one(i, fleet.forwarders[i]) for i in ids))
    return dict(zip(ids, results, strict=True))
