"""The ports the services depend on; adapters in ``shared/adapters`` implement them.

Services take these as arguments, so tests can hand them the real adapters wired to the
local emulators, or small fakes for pure logic.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol


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
