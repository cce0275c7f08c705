"""The ports the incident services depend on (adapters: ``shared.adapters.sentinel``,
``shared.adapters.destinations``, ``shared.incidents.table``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from shared.adapters.destinations import Answer
    from shared.incidents.domain.breaker import Breaker
    from shared.incidents.domain.search import QueryTable
    from shared.incidents.domain.state import Forwarded


@dataclass(frozen=True)
class Page:
    """One page of an incident list (raw ARM-shaped incidents)."""

    incidents: list[dict[str, Any]]
    next_link: str | None
    remaining_reads: int | None
    """ARM's ``x-ms-ratelimit-remaining-subscription-reads`` (None: not reported)."""
    server_time: datetime | None


class IncidentApi(Protocol):
    """Sentinel's incident operations (raw JSON)."""

    async def list_page(
        self, *, filter: str | None, orderby: str | None, top: int, next_link: str | None = None
    ) -> Page:
        """One page of the list."""
        ...

    async def get(self, name: str) -> dict[str, Any]:
        """One incident."""
        ...

    async def put(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """Replace an incident (409 ``IncidentConflict`` on a stale etag)."""
        ...

    async def put_comment(self, name: str, comment_id: str, message: str) -> dict[str, Any]:
        """Create or update one comment."""
        ...

    async def alerts(self, name: str) -> dict[str, Any]:
        """The incident's alerts."""
        ...

    async def comments(self, name: str) -> dict[str, Any]:
        """``GET .../comments``: ``{"value": [...]}``."""
        ...

    async def entities(self, name: str) -> dict[str, Any]:
        """The incident's entities."""
        ...

    async def permissions(self) -> dict[str, Any]:
        """The caller's permissions on the workspace."""
        ...


class LogsReader(Protocol):
    """The Log Analytics query API for the incidents' workspace."""

    async def query(self, text: str, *, start: datetime, end: datetime) -> QueryTable:
        """The answer's first table (``UpstreamUnavailable`` when there is none)."""
        ...


class Poster(Protocol):
    """POSTs to destinations."""

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        """The destination's answer (``UpstreamUnavailable`` when none came)."""
        ...


@dataclass(frozen=True)
class PollMarks:
    """The poller's progress: the watermark and the last sweep."""

    watermark: datetime | None = None
    last_sweep: datetime | None = None


class IncidentState(Protocol):
    """What the poller, the forwarder and the callback remember (Table storage)."""

    async def marks(self) -> PollMarks:
        """The watermark and last sweep."""
        ...

    async def save_marks(self, marks: PollMarks) -> None:
        """Store them."""
        ...

    async def forwarded(self, name: str) -> Forwarded | None:
        """The record of one incident, if it was forwarded."""
        ...

    async def all_forwarded(self) -> dict[str, Forwarded]:
        """Every record, by lower-case incident name."""
        ...

    async def save_forwarded(self, record: Forwarded) -> None:
        """Store one record."""
        ...

    async def forget_forwarded(self, name: str) -> None:
        """Delete one record (gone already is fine)."""
        ...

    async def breaker(self, destination: str) -> Breaker:
        """One destination's breaker (a fresh one if none is stored)."""
        ...

    async def save_breaker(self, destination: str, breaker: Breaker) -> None:
        """Store it."""
        ...
