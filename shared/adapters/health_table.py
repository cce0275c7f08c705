"""Window totals of every process in Table storage (``HealthStore``, the flusher's writer).

One entity per window and process; the window start is the partition::

    PartitionKey  2026-11-23T12:05:00Z      (sorts by time)
    RowKey        <process id>              (``Counters.instance_id``)
    Counts        {"source": {"fig": {"received": 3, "rejected:Unauthorized": 1}}}
    Version       how many counts the process had made in the window when it wrote

Each process upserts its own absolute totals (replace), so writes are idempotent and no
two processes ever write the same entity. The bridge health timer adds a marker entity
(RowKey ``~report``) to a window once it reported it.

``shared.telemetry.flush.Flusher`` decides when a process writes. The SDK client is sync;
calls run in a worker thread. Storage failures surface as ``UpstreamUnavailable``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.data.tables import TableClient, TableEntity

from shared.adapters.storage_common import table_client, unavailable, upsert_entity
from shared.config.storage import StorageConnection
from shared.telemetry.metrics import Key, WindowCounts, decode_counts, encode_counts, utc_now
from shared.telemetry.rows import Gauges, ReportMarker, StoredWindow

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

logger = logging.getLogger(__name__)

MARKER = "~report"
DEFAULT_TABLE_NAME = "bridgehealth"


def partition_key(start: datetime) -> str:
    """The window's partition key: its start, ISO-8601 UTC to the second."""
    return start.strftime("%Y-%m-%dT%H:%M:%SZ")


class HealthTable:
    """``HealthStore`` and the flusher's writer, over a (sync) ``TableClient``."""

    def __init__(self, table: TableClient) -> None:
        self._table = table

    @property
    def table_name(self) -> str:
        """The table's name (``HEALTH_TABLE_NAME``)."""
        return str(self._table.table_name)

    async def write(self, instance_id: str, window: WindowCounts) -> None:
        """Store ``window``'s totals for process ``instance_id``, replacing earlier ones.

        Raises:
            UpstreamUnavailable: storage did not accept them.
        """
        entity = {
            "PartitionKey": partition_key(window.start),
            "RowKey": instance_id,
            "Counts": encode_counts(window.counts),
            "Version": window.version,
        }
        await self._call("health write", self._upsert, entity)

    async def windows(self, *, before: datetime) -> list[StoredWindow]:
        """Every stored window starting before ``before``, oldest first.

        Raises:
            UpstreamUnavailable: storage did not answer.
        """
        entities = await self._call("health read", self._query, partition_key(before))
        writers: dict[str, dict[str, dict[Key, int]]] = {}
        markers: dict[str, ReportMarker] = {}
        for entity in entities:
            key, row = str(entity["PartitionKey"]), str(entity["RowKey"])
            if row == MARKER:
                markers[key] = _marker(entity)
                continue
            try:
                counts = decode_counts(str(entity.get("Counts", "{}")))
            except ValueError:
                logger.warning("Health entity %s/%s unreadable; skipped", key, row)
                continue
            writers.setdefault(key, {})[row] = counts
        return [
            StoredWindow(_start(key), writers.get(key, {}), markers.get(key))
            for key in sorted(writers.keys() | markers.keys())
        ]

    async def mark_reported(self, start: datetime, marker: ReportMarker) -> None:
        """Write window ``start``'s report marker.

        Raises:
            UpstreamUnavailable: storage did not accept it.
        """
        entity: dict[str, Any] = {
            "PartitionKey": partition_key(start),
            "RowKey": MARKER,
            "Fingerprint": marker.fingerprint,
            "ReportedAt": marker.reported_at,
        }
        gauges = {
            "QueueDepth": marker.gauges.queue_depth,
            "DeadLetterCount": marker.gauges.dead_letter_count,
            "OldestQueuedAgeSeconds": marker.gauges.oldest_queued_age_seconds,
        }
        entity |= {name: value for name, value in gauges.items() if value is not None}
        await self._call("health marker write", self._upsert, entity)

    async def delete_window(self, window: StoredWindow) -> None:
        """Delete every entity of ``window`` (totals and marker); gone ones are fine.

        Raises:
            UpstreamUnavailable: storage did not answer.
        """
        rows = [*window.writers, MARKER] if window.marker is not None else [*window.writers]
        await self._call("health delete", self._delete, partition_key(window.start), rows)

    async def _call(self, operation: str, function: Callable[..., Any], *args: Any) -> Any:
        try:
            return await asyncio.to_thread(function, *args)
        except AzureError as error:
            raise unavailable(operation, error) from None

    def _upsert(self, entity: dict[str, Any]) -> None:
        upsert_entity(self._table, entity)

    def _query(self, before: str) -> list[TableEntity]:
        try:
            found = self._table.query_entities(
                "PartitionKey lt @before", parameters={"before": before}
            )
            return list(found)
        except ResourceNotFoundError:  # no table yet: nothing stored
            return []

    def _delete(self, key: str, rows: list[str]) -> None:
        for row in rows:  # a few per window; an entity already gone is not an error
            self._table.delete_entity(partition_key=key, row_key=row)


def _start(key: str) -> datetime:
    return datetime.fromisoformat(key.replace("Z", "+00:00"))


def _marker(entity: TableEntity) -> ReportMarker:
    reported = entity.get("ReportedAt")
    age = entity.get("OldestQueuedAgeSeconds")
    return ReportMarker(
        fingerprint=str(entity.get("Fingerprint", "")),
        reported_at=reported if isinstance(reported, datetime) else utc_now(),
        gauges=Gauges(
            queue_depth=_int_or_none(entity.get("QueueDepth")),
            dead_letter_count=_int_or_none(entity.get("DeadLetterCount")),
            oldest_queued_age_seconds=float(age) if isinstance(age, int | float) else None,
        ),
    )


def _int_or_none(value: object) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def build_health_table(
    connection: StorageConnection, credential: TokenCredential | None, *, table_name: str
) -> HealthTable:
    """The health table on the host's storage account.

    Args:
        connection: from ``parse_storage_connection`` (the host's own settings).
        credential: the managed identity, for identity-based connections only.
        table_name: ``HEALTH_TABLE_NAME``.

    Raises:
        ValueError: an identity connection without a table service URI.
    """
    return HealthTable(table_client(connection, credential, table_name))
