"""What the storage adapters share: client options, error mapping, JSON blob writes, and
the Table client and write that create their table on first use."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode
from azure.storage.blob import ContainerClient, ContentSettings

from shared.config.storage import StorageConnection
from shared.errors import UpstreamUnavailable

logger = logging.getLogger(__name__)

JSON = ContentSettings(content_type="application/json; charset=utf-8")
CLIENT_OPTIONS: dict[str, Any] = {
    # A few quick retries (about 1, 3 and 5 s) ride out a blip; the SDK's defaults
    # (15 s, then 18 s, 24 s) would hold a webhook sender or a queue message for a minute
    # before the caller's own fallback (503, or the host's redelivery) could start.
    "connection_timeout": 5,
    "read_timeout": 30,
    "retry_total": 3,
    "initial_backoff": 1,
    "increment_base": 2,
    "random_jitter_range": 1,
}


def unavailable(operation: str, error: AzureError) -> UpstreamUnavailable:
    """``UpstreamUnavailable`` for a failed storage call, logged: operation, class, status.

    Nothing else of the error is kept: its message can quote what was being written.
    """
    status = getattr(error, "status_code", None)
    detail = f"{type(error).__name__}, status {status}" if status else type(error).__name__
    logger.warning("Storage %s failed (%s)", operation, detail)
    return UpstreamUnavailable(f"Storage {operation} failed ({detail})", upstream_status=status)


def upload_json(container: ContainerClient, name: str, text: str, **kwargs: Any) -> None:
    """Write ``text`` to blob ``name``, creating the container on first use (sync)."""
    data = text.encode("utf-8")
    try:
        container.upload_blob(name, data, overwrite=True, content_settings=JSON, **kwargs)
    except ResourceNotFoundError:  # ContainerNotFound: create it, then write once more
        with contextlib.suppress(ResourceExistsError):
            container.create_container()
        container.upload_blob(name, data, overwrite=True, content_settings=JSON, **kwargs)


def table_client(
    connection: StorageConnection, credential: TokenCredential | None, name: str
) -> TableClient:
    """A ``TableClient`` for ``name``: from the connection string, or URI + identity.

    Raises:
        ValueError: an identity connection without a table service URI.
    """
    if connection.connection_string is not None:
        return TableClient.from_connection_string(
            connection.connection_string, name, **CLIENT_OPTIONS
        )
    if connection.table_service_uri is None:
        raise ValueError(
            f"{connection.setting}__tableServiceUri (or __accountName) must be set for "
            f"the table {name}"
        )
    return TableClient(connection.table_service_uri, name, credential=credential, **CLIENT_OPTIONS)


def upsert_entity(table: TableClient, entity: dict[str, Any]) -> None:
    """Write ``entity`` whole (sync), creating the table on first use."""
    try:
        table.upsert_entity(entity, mode=UpdateMode.REPLACE)
    except ResourceNotFoundError:  # TableNotFound: create it, then write once more
        with contextlib.suppress(ResourceExistsError):
            table.create_table()
        table.upsert_entity(entity, mode=UpdateMode.REPLACE)
