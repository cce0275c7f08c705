"""What a source is: the contract every webhook source module fulfils.

A source is one small module with a module-level ``SOURCE`` object: its name, the table
its rows land in, the methods it takes, how its sender authenticates, and a pure ``parse``
from the request to rows. ``shared.intake`` does everything else (size, order of checks,
filtering, sending, replies) the same way for every source. See docs/adding-a-source.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from shared.errors import UnknownEventType

if TYPE_CHECKING:  # annotations only: settings imports the sources
    from shared.ports import SecretStore
    from shared.schema import TableSchema
    from shared.settings import Settings


# Sources that send batches (Wallarm, Kibana) may send larger bodies than one event; rows
# are still packed into requests under the service's 1 MB limit.
BATCH_BODY_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class InboundRequest:
    """What the edge hands a source: method, headers (lower-case names), body, time."""

    method: str
    headers: Mapping[str, str]
    body: bytes
    received: datetime


@dataclass(frozen=True)
class Parsed:
    """A request's events as rows for the source's table.

    ``test`` marks a sender's test delivery: answered 200, nothing sent.
    ``duplicate`` marks a delivery already taken (e.g. a repeated ``webhook-id``): 200,
    nothing sent. ``on_accepted``, when set, is called once every row was accepted by
    Sentinel or durably handed off (and only then), e.g. to remember a delivered message
    id so a repeat is answered without a second row. ``on_finished``, when set, is called
    once the request is over, whatever its outcome (after ``on_accepted`` on success),
    e.g. to release a message id reserved as in flight that was not delivered.
    """

    rows: Sequence[dict[str, Any]]
    test: bool = False
    event_types: Sequence[str] = field(default_factory=tuple)
    duplicate: bool = False
    on_accepted: Callable[[], None] | None = None
    on_finished: Callable[[], None] | None = None


class Authenticator(Protocol):
    """Checks that a request comes from the configured sender."""

    async def authenticate(
        self, request: InboundRequest, secrets: SecretStore, settings: Settings
    ) -> None:
        """Return if authentic.

        Raises:
            Unauthorized: missing, malformed or wrong credentials (one answer for all).
            SecretMissing: the source's secret is not in the vault (source not enabled).
            UpstreamUnavailable: the vault cannot be read and nothing is cached.
        """
        ...


class Source(Protocol):
    """A webhook source. Implementations are pure: no I/O except through the ports."""

    @property
    def name(self) -> str:
        """Short name, used in routes, logs and EventIds (e.g. ``fig``)."""
        ...

    @property
    def methods(self) -> frozenset[str]:
        """The HTTP methods the sender uses."""
        ...

    @property
    def batch_body_bytes(self) -> int | None:
        """A larger body limit for a source that sends batches, or None for MAX_BODY_BYTES."""
        ...

    @property
    def off_without_secret(self) -> bool:
        """True when a missing vault secret means "source not enabled" (404), not 503."""
        ...

    @property
    def authenticator(self) -> Authenticator:
        """How the sender proves who it is."""
        ...

    def table(self) -> TableSchema:
        """The table (and so the stream) its rows go to."""
        ...

    def enabled_event_types(self, settings: Settings) -> frozenset[str] | None:
        """Event types to forward (None: all)."""
        ...

    def parse(self, route: str, request: InboundRequest) -> Parsed:
        """Validate the body for ``route`` and shape the rows.

        Raises:
            UnknownEventType: no such route (404).
            MalformedPayload: the body is not what the route takes (400).
        """
        ...

    def check_route(self, route: str) -> None:
        """Raise UnknownEventType when ``route`` is not one this source takes (before auth)."""
        ...


class SingleEndpoint:
    """For a source with one URL whose sender already chooses what to send: no sub-routes,
    and every event type forwarded."""

    endpoint: str
    """The source's URL path, for the 404 message (e.g. ``/api/wallarm``)."""

    def check_route(self, route: str) -> None:
        """404 for any sub-route."""
        if route:
            raise UnknownEventType(f"This source has one endpoint, {self.endpoint}.")

    def enabled_event_types(self, settings: Settings) -> frozenset[str] | None:
        """All types: the sender's own rules choose what is sent."""
        return None
