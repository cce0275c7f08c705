"""What a source is: the contract every webhook source module fulfils.

A source is one small module with a class built from its own settings (secret names,
headers, event types: configured once, when it is built, like itsdangerous's ``Signer``):
its name, the table its rows land in, the methods it takes, how its sender authenticates,
and a pure ``parse`` from the request to rows. ``shared.bootstrap`` builds each source from
the settings, alone, so a bad setting of one disables only that one; the request pipeline
and ``shared.inbound.intake`` do everything else the same way for every source. See
docs/adding-a-source.md.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from shared.config.catalog import DEFAULT_MAX_ROWS_PER_REQUEST
from shared.errors import UnknownEventType

if TYPE_CHECKING:
    from shared.inbound.request import InboundRequest
    from shared.ports import SecretStore
    from shared.rows.schema import TableSchema


# Sources that send batches (Wallarm, Kibana) may send larger bodies than one event; rows
# are still packed into requests under the service's 1 MB limit.
BATCH_BODY_BYTES = 16 * 1024 * 1024
# ... and at most this many events in one (MAX_ROWS_PER_REQUEST), counted before parsing.
DEFAULT_MAX_ITEMS = DEFAULT_MAX_ROWS_PER_REQUEST


@dataclass(frozen=True)
class Parsed:
    """A request's events as rows for the source's table.

    ``test`` marks a sender's test delivery: answered 200, nothing sent.
    ``test_rows`` marks rows that are a test delivery's, written marked as tests (Wallarm's
    "Test integration" shows one row in Sentinel): sent, and counted as a test.
    ``duplicate`` marks a delivery already taken (e.g. a repeated ``webhook-id``): 200,
    nothing sent. ``claim``, when set, is awaited before anything is sent: False makes
    the request a duplicate (e.g. another copy of the message is delivered or in flight,
    on this instance or another). ``on_accepted``, when set, is awaited once every row
    was accepted by Sentinel or durably handed off (and only then), e.g. to keep a
    delivered message id so a repeat is answered without a second row. ``on_finished``,
    when set, is awaited once the request is over, whatever its outcome (after
    ``on_accepted`` on success), e.g. to release a claim that was not delivered.
    """

    rows: Sequence[dict[str, Any]]
    test: bool = False
    test_rows: bool = False
    event_types: Sequence[str] = field(default_factory=tuple)
    duplicate: bool = False
    claim: Callable[[], Awaitable[bool]] | None = None
    on_accepted: Callable[[], Awaitable[None]] | None = None
    on_finished: Callable[[], Awaitable[None]] | None = None


class Authenticator(Protocol):
    """Checks that a request comes from the configured sender."""

    async def authenticate(self, request: InboundRequest, secrets: SecretStore) -> None:
        """Return if authentic.

        Raises:
            Unauthorized: missing, malformed or wrong credentials (one answer for all).
            SecretMissing: the source's secret is not in the vault (source not enabled).
            UpstreamUnavailable: the vault cannot be read and nothing is cached.
        """
        ...


@dataclass(frozen=True)
class SourceRoute:
    """What is known of a source before any setting is read (public facts): the name its
    replies are counted under, the methods its sender uses, and which routes exist."""

    name: str
    methods: frozenset[str]
    check_route: Callable[[str], None]
    """Raise UnknownEventType (404) for a route this source does not take."""


def one_endpoint(path: str) -> Callable[[str], None]:
    """The route check of a source with one URL (``path``, for the 404 message)."""

    def check(route: str) -> None:
        if route:
            raise UnknownEventType(f"This source has one endpoint, {path}.")

    return check


class Source(Protocol):
    """A webhook source, configured. Implementations are pure: no I/O except the ports."""

    @property
    def name(self) -> str:
        """Short name, used in routes, logs and EventIds (e.g. ``fig``)."""
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

    def enabled_event_types(self) -> frozenset[str] | None:
        """Event types to forward (None: all)."""
        ...

    def parse(self, route: str, request: InboundRequest) -> Parsed:
        """Validate the body for ``route`` and shape the rows.

        Raises:
            MalformedPayload: the body is not what the route takes (400).
            UnsupportedMediaType: the Content-Type is plainly wrong (415).
        """
        ...
