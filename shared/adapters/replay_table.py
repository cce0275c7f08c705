"""The Standard Webhooks replay ledger in a Table every instance shares.

One entity per ``(route, webhook-id)``::

    PartitionKey  <route>.<2 hex digits of SHA-256(webhook-id)>  (256 partitions a route:
                  a partition serves about 2,000 entities/s, one busy sender more)
    RowKey        the webhook-id itself when it is a safe key (case kept: ids are
                  case-sensitive), else ``h-`` + its SHA-256
    State         ``inflight`` or ``delivered``; At: ISO-8601 UTC

A claim is a conditional insert (the service answers 409 when the entity exists, so of
two instances racing exactly one inserts). An existing entity whose mark has expired
(``shared.sources.replay_guard.is_free``) is taken over with an update conditional on
the ETag read (412 when another instance took it first). A release deletes the entity
only while it is still this claim (same ETag). The table is ``<HEALTH_TABLE_NAME>replays``
(cut to 63 characters), created on first use. Expired entities are overwritten, never
swept: a day's ids cost storage, not transactions.

The SDK client is sync; calls run in a worker thread. A failed claim raises
``UpstreamUnavailable`` (503: the sender retries); a failed keep or release is logged
and left (an unkept claim frees itself after the in-flight window).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from azure.core import MatchConditions
from azure.core.exceptions import (
    AzureError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.data.tables import TableClient, TableEntity, UpdateMode

from shared.adapters.storage_common import table_client, unavailable, upsert_entity
from shared.rows.tablekeys import is_safe_key
from shared.sources.replay_guard import (
    DELIVERED,
    IN_FLIGHT,
    ReplayKey,
    ReplayMark,
    ReplayWindows,
    is_free,
)

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

    from shared.config.storage import StorageConnection

logger = logging.getLogger(__name__)

SUFFIX = "replays"


def table_name(health_table_name: str) -> str:
    """The replay table's name, next to the health table's."""
    return (health_table_name + SUFFIX)[:63]


def entity_keys(key: ReplayKey) -> tuple[str, str]:
    """(PartitionKey, RowKey) for ``key`` (see the module docstring)."""
    route, msg_id = key
    digest = hashlib.sha256(msg_id.encode()).hexdigest()
    row = msg_id if is_safe_key(msg_id) else f"h-{digest}"
    return f"{route}.{digest[:2]}", row


class TableReplayLedger:
    """``ReplayLedger`` over a (sync) ``TableClient``."""

    def __init__(self, table: TableClient, windows: ReplayWindows | None = None) -> None:
        """Take the table client and the windows marks hold for."""
        self._table = table
        self._windows = windows or ReplayWindows()

    async def claim(self, key: ReplayKey, now: datetime) -> str | None:
        """See ``ReplayLedger.claim``: the claim's ETag, or None when a mark holds ``key``."""
        try:
            return await asyncio.to_thread(self._claim, key, now)
        except AzureError as error:
            raise unavailable("replay guard", error) from None

    async def keep(self, key: ReplayKey, token: str, now: datetime) -> None:
        """See ``ReplayLedger.keep``."""
        try:
            await asyncio.to_thread(upsert_entity, self._table, _entity(key, DELIVERED, now))
        except AzureError as error:  # the rows are taken; the claim expires by itself
            logger.warning("Replay guard: keeping a delivered id failed (%s)", type(error).__name__)

    async def release(self, key: ReplayKey, token: str) -> None:
        """See ``ReplayLedger.release``."""
        try:
            await asyncio.to_thread(self._release, key, token)
        except AzureError as error:  # the claim expires by itself
            logger.warning("Replay guard: releasing a claim failed (%s)", type(error).__name__)

    def mark(self, key: ReplayKey) -> ReplayMark | None:
        """The mark held for ``key`` (sync; for tests and diagnostics)."""
        partition, row = entity_keys(key)
        try:
            return _mark(self._table.get_entity(partition, row))
        except ResourceNotFoundError:
            return None

    def _claim(self, key: ReplayKey, now: datetime) -> str | None:
        entity = _entity(key, IN_FLIGHT, now)
        try:
            return self._insert(entity)
        except ResourceExistsError:
            pass
        try:
            existing = self._table.get_entity(entity["PartitionKey"], entity["RowKey"])
        except ResourceNotFoundError:  # released since: one more insert decides
            try:
                return self._insert(entity)
            except ResourceExistsError:
                return None
        if not is_free(_mark(existing), now, self._windows):
            return None
        try:
            written = self._table.update_entity(
                entity,
                mode=UpdateMode.REPLACE,
                etag=existing.metadata["etag"],
                match_condition=MatchConditions.IfNotModified,
            )
        except (ResourceModifiedError, ResourceNotFoundError):
            return None  # another instance took (or released) the expired mark first
        return _etag(written)

    def _insert(self, entity: dict[str, Any]) -> str:
        try:
            written = self._table.create_entity(entity)
        except ResourceNotFoundError:  # TableNotFound: create it, then insert once more
            with contextlib.suppress(ResourceExistsError):
                self._table.create_table()
            written = self._table.create_entity(entity)
        return _etag(written)

    def _release(self, key: ReplayKey, token: str) -> None:
        partition, row = entity_keys(key)
        with contextlib.suppress(ResourceNotFoundError, ResourceModifiedError):
            self._table.delete_entity(
                partition, row, etag=token, match_condition=MatchConditions.IfNotModified
            )


def build_replay_ledger(
    connection: StorageConnection, credential: TokenCredential | None, *, health_table_name: str
) -> TableReplayLedger:
    """The replay table on the host's storage account (see ``build_health_table``)."""
    return TableReplayLedger(table_client(connection, credential, table_name(health_table_name)))


def _entity(key: ReplayKey, state: str, now: datetime) -> dict[str, Any]:
    partition, row = entity_keys(key)
    return {"PartitionKey": partition, "RowKey": row, "State": state, "At": now.isoformat()}


def _mark(entity: TableEntity) -> ReplayMark | None:
    try:
        return ReplayMark(str(entity["State"]), datetime.fromisoformat(str(entity["At"])))
    except (KeyError, ValueError):
        return None  # not an entity this code wrote: free


def _etag(written: Any) -> str:
    return str(written.get("etag", "")) if isinstance(written, dict) else ""
