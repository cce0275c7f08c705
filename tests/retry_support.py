"""Retry storage and envelopes for the retry tests (functions and e2e).

They run on the session's one ``azurite`` (tests/azure_fixtures.py), each with a queue and
containers of its own (``storage_env``).
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from azure.storage.queue import QueueClient

from local.azurite import Azurite
from shared.adapters.retry_storage import RetryStorage, build_retry_storage
from shared.config.settings import Settings
from shared.delivery.envelope import Envelope
from shared.rows.timepolicy import utc_iso
from tests.azure_fixtures import storage_env

STREAM = "Custom-FigEvents"
# Settings every bridge needs; storage tests never reach these services.
REQUIRED = {
    "KEY_VAULT_URI": "https://kv-unused.vault.azure.net/",
    "LOGS_INGESTION_ENDPOINT": "https://dce-unused.ingest.monitor.azure.com",
    "LOGS_INGESTION_DCR_ID": "dcr-unused",
}
TARGET = f"sentinel:{STREAM}"


def retry_settings(env: dict[str, str]) -> Settings:
    """The bridge's settings for ``env`` (storage tests need only the storage part)."""
    return Settings.from_env({**REQUIRED, **env})


@pytest.fixture
def retry_storage(azurite: Azurite) -> RetryStorage:
    """The real adapters on Azurite, with a queue and containers of their own."""
    return build_retry_storage(retry_settings(storage_env(azurite)), None)


@pytest.fixture
def raw_queue(azurite: Azurite, retry_storage: RetryStorage) -> Iterator[QueueClient]:
    """The retry queue read as the host reads it: raw text, base64-decoded by the test."""
    with QueueClient.from_connection_string(
        azurite.connection_string, retry_storage.queue.queue_name
    ) as client:
        yield client


def host_decode(text: str) -> str:
    """What the host hands the function under ``messageEncoding: base64``."""
    return base64.b64decode(text, validate=True).decode("utf-8")


def fig_row(
    received: datetime, *, event_time: datetime | None = None, **extra: Any
) -> dict[str, Any]:
    """A FigEvents_CL row as the bridge writes it."""
    moment = event_time or received
    return {
        "TimeGenerated": utc_iso(moment),
        "EventTime": utc_iso(moment),
        "ReceivedTime": utc_iso(received),
        "EventId": str(uuid.uuid4()),
        "EventType": "SecurityEvent",
        "TruncatedColumns": [],
        **extra,
    }


def envelope(
    *,
    rows: list[dict[str, Any]] | None = None,
    first_seen: datetime | None = None,
    target: str = TARGET,
    attempt: int = 0,
) -> Envelope:
    """A queued delivery of ``rows`` (one fresh Fig row by default)."""
    seen = first_seen or datetime.now(UTC) - timedelta(minutes=1)
    return Envelope(
        id=str(uuid.uuid4()),
        target=target,
        source="fig",
        first_seen=seen,
        rows=rows if rows is not None else [fig_row(seen)],
        attempt=attempt,
    )
