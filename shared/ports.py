"""The ports the services depend on; adapters in ``shared/adapters`` implement them.

Services take these as arguments, so tests can hand them the real adapters wired to the
local emulators, or small fakes for pure logic.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from datetime import datetime

    from shared.delivery.envelope import Envelope


class SecretStore(Protocol):
    """Reads secrets (Key Vault in Azure)."""

    async def get(self, name: str, *, max_age: float | None = None) -> str:
        """The secret's current value, at most ``max_age`` seconds old if given.

        Raises:
            SecretMissing: the store has no such secret.
            UpstreamUnavailable: the store cannot be reached and no value is cached.
        """
        ...

    async def probe(self, name: str) -> None:
        """Read ``name`` from the store itself, bypassing any cache (health checks).

        Raises:
            SecretMissing: no such secret.
            UpstreamUnavailable: the store refused or cannot be reached (``upstream_status``).
        """
        ...


class RowSink(Protocol):
    """Writes rows to a Sentinel stream (the Logs Ingestion API in Azure)."""

    async def send(self, stream: str, rows: Sequence[dict[str, Any]]) -> None:
        """Return once every row was accepted.

        Raises:
            IngestionFailed: some rows were not accepted; it carries those rows.
        """
        ...

    async def probe(self, stream: str) -> None:
        """Check that ``stream`` takes data from this identity, without writing a row.

        Raises:
            UpstreamUnavailable: the service refused or cannot be reached (``upstream_status``).
        """
        ...


class RetryQueue(Protocol):
    """The durable retry queue (an Azure Storage queue; large envelopes spill to blobs)."""

    async def depth(self) -> int:
        """About how many messages wait (the service's approximate count)."""
        ...

    async def oldest_age_seconds(self, now: datetime) -> float | None:
        """How long the oldest waiting message has been queued; None when empty."""
        ...

    async def enqueue(self, envelope: Envelope, *, delay_seconds: float = 0.0) -> None:
        """Store ``envelope`` durably, visible to the worker after ``delay_seconds``.

        Raises:
            UpstreamUnavailable: storage did not accept it (nothing was stored).
        """
        ...


class DeadLetters(Protocol):
    """Where deliveries that cannot succeed are kept, visible and replayable."""

    async def count(self) -> int:
        """How many dead letters there are."""
        ...

    async def put_unreadable(self, text: str, *, reason: str) -> str:
        """Keep a queue message that is not an envelope, as it was; return its name."""
        ...

    async def put(self, envelope: Envelope, *, reason: str) -> str:
        """Store ``envelope`` with ``reason``; return the dead letter's name.

        Raises:
            UpstreamUnavailable: storage did not accept it.
        """
        ...
