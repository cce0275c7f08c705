"""The composition root: settings and Azure clients, built once, on first use.

Nothing here runs at import time (the Functions host imports the app to index it). The
first invocation reads the settings and builds the managed-identity credential and the
SDK clients; later invocations reuse them. A settings problem is raised as ConfigError
naming every bad setting, logged, and reported by the health endpoint; it is retried on
the next invocation, so the app never has to be re-indexed to recover.

The Azure SDK modules are imported inside the builders: a test webhook on a cold start
should not wait for them before it can be answered.
"""

from __future__ import annotations

import logging
import os
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shared.metrics import Counters, new_instance_id
from shared.ports import DeadLetters, RetryQueue, RowSink, SecretStore
from shared.settings import Settings

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

    from shared.adapters.health_table import HealthTable
    from shared.adapters.retry_storage import RetryStorage
    from shared.health_flush import Flusher
    from shared.retry import RetryDeps

logger = logging.getLogger(__name__)

# A webhook sender is waiting: fail over to the retry queue fast.
CONNECTION_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 15
# No status retries: azure-core would sleep a 429's Retry-After inside the request.
INGESTION_RETRIES = {"retry_total": 2, "retry_connect": 2, "retry_read": 1, "retry_status": 0}


@dataclass(frozen=True)
class Bridge:
    """Everything the services need, wired to Azure.

    ``storage``, ``health_table`` and ``flusher`` are None only in tests that wire the
    services to in-memory fakes.
    """

    settings: Settings
    credential: TokenCredential
    secrets: SecretStore
    sink: RowSink
    retry_queue: RetryQueue
    dead_letters: DeadLetters
    rng: random.Random = field(default_factory=random.Random)
    counters: Counters = field(default_factory=lambda: Counters(new_instance_id()))
    storage: RetryStorage | None = None
    health_table: HealthTable | None = None
    flusher: Flusher | None = None


_bridge: Bridge | None = None
_lock = threading.Lock()


def get_bridge(environ: Mapping[str, str] | None = None) -> Bridge:
    """The process-wide Bridge, built on first call.

    Raises:
        ConfigError: settings are missing or invalid; every problem is named.
    """
    global _bridge
    if _bridge is not None:
        return _bridge
    with _lock:
        if _bridge is None:
            settings = Settings.from_env(os.environ if environ is None else environ)
            _bridge = build_bridge(settings)
            logger.info(
                "Bridge clients built (vault %s, storage %s)",
                settings.key_vault_uri,
                settings.storage.describe(),
            )
        return _bridge


def reset_bridge() -> None:
    """Forget the built clients (tests; a settings change in a long-lived process)."""
    global _bridge
    with _lock:
        _bridge = None


def build_bridge(settings: Settings) -> Bridge:
    """Build the credential, clients and adapters for ``settings``."""
    from shared.adapters.health_table import build_health_table
    from shared.adapters.retry_storage import build_retry_storage, storage_credential
    from shared.health_flush import Flusher

    credential = build_credential(settings)
    storage_identity = storage_credential(settings.storage, settings.azure_client_id)
    storage = build_retry_storage(settings, storage_identity)
    health_table = build_health_table(
        settings.storage, storage_identity, table_name=settings.health_table_name
    )
    counters = Counters(new_instance_id())
    return Bridge(
        settings=settings,
        credential=credential,
        secrets=build_secrets(settings, credential),
        sink=build_sink(settings, credential),
        retry_queue=storage.queue,
        dead_letters=storage.dead_letters,
        counters=counters,
        storage=storage,
        health_table=health_table,
        flusher=Flusher(counters, health_table),
    )


def retry_deps(bridge: Bridge) -> RetryDeps:
    """What the retry worker needs, from the bridge."""
    from shared.incidents.wiring import incident_targets
    from shared.retry import RetryDeps, default_targets

    if bridge.storage is None:
        raise RuntimeError("this bridge has no retry storage")
    return RetryDeps(
        sink=bridge.sink,
        queue=bridge.storage.queue,
        dead_letters=bridge.storage.dead_letters,
        spill=bridge.storage.spill,
        budget=bridge.settings.delivery_budget,
        base_seconds=bridge.settings.retry_base_seconds,
        cap_seconds=bridge.settings.retry_max_seconds,
        targets={**default_targets(), **incident_targets()},
    )


def build_credential(settings: Settings) -> TokenCredential:
    """The app's managed identity (user-assigned when AZURE_CLIENT_ID is set)."""
    from azure.identity import ManagedIdentityCredential

    if settings.azure_client_id:
        return ManagedIdentityCredential(client_id=settings.azure_client_id)
    return ManagedIdentityCredential()


def build_secrets(settings: Settings, credential: TokenCredential) -> SecretStore:
    """Key Vault, cached (see ``shared.adapters.keyvault``)."""
    from azure.keyvault.secrets import SecretClient

    from shared.adapters.keyvault import KeyVaultSecrets

    client = SecretClient(
        settings.key_vault_uri,
        credential,
        verify_challenge_resource=settings.key_vault_verify_challenge_resource,
        connection_timeout=CONNECTION_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retry_total=2,
    )
    return KeyVaultSecrets(client)


def build_sink(settings: Settings, credential: TokenCredential) -> RowSink:
    """The Logs Ingestion API for the configured DCR, packing and coalescing."""
    from azure.monitor.ingestion import LogsIngestionClient

    from shared.adapters.ingestion import LogsIngestionSink

    client = LogsIngestionClient(
        settings.logs_ingestion_endpoint,
        credential,
        credential_scopes=[settings.logs_ingestion_audience.rstrip("/") + "/.default"],
        connection_timeout=CONNECTION_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        **INGESTION_RETRIES,
    )
    return LogsIngestionSink(
        client,
        settings.logs_ingestion_dcr_id,
        routes=settings.logs_ingestion_dcr_routes,
        coalesce_window_seconds=settings.coalesce_window_seconds,
    )


def get_retry_storage() -> RetryStorage:
    """The process-wide retry storage (queue, spill, dead letters, poison queue)."""
    storage = get_bridge().storage
    if storage is None:
        raise RuntimeError("this bridge has no retry storage")
    return storage


def get_retry_deps() -> RetryDeps:
    """What the retry worker needs, from the process-wide bridge."""
    return retry_deps(get_bridge())


@dataclass(frozen=True)
class HealthWiring:
    """What the bridge-health timer needs (``shared.bridge_health.HealthWiring``)."""

    sink: RowSink
    health_table: HealthTable
    flusher: Flusher
    retry_queue: RetryQueue
    dead_letters: DeadLetters


def get_health_wiring() -> HealthWiring:
    """The bridge-health timer's adapters, from the process-wide bridge."""
    bridge = get_bridge()
    if bridge.health_table is None or bridge.flusher is None:
        raise RuntimeError("this bridge has no health table")
    return HealthWiring(
        bridge.sink, bridge.health_table, bridge.flusher, bridge.retry_queue, bridge.dead_letters
    )
