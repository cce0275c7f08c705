"""The Azure clients behind the ports, built from the settings (by the root only).

The Azure SDK modules are imported inside the builders: a test webhook on a cold start
should not wait for them before it can be answered, and indexing imports none of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.config.settings import Settings
from shared.ports import RowSink, SecretStore
from shared.telemetry.metrics import Counters

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

    from shared.adapters.health_table import HealthTable
    from shared.adapters.retry_storage import RetryStorage
    from shared.telemetry.flush import Flusher

# A webhook sender is waiting: fail over to the retry queue fast.
CONNECTION_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 15
# No status retries: azure-core would sleep a 429's Retry-After inside the request.
INGESTION_RETRIES = {"retry_total": 2, "retry_connect": 2, "retry_read": 1, "retry_status": 0}


@dataclass(frozen=True)
class Clients:
    """Every adapter the capabilities share, wired to Azure."""

    credential: TokenCredential
    storage_credential: TokenCredential | None
    secrets: SecretStore
    sink: RowSink
    storage: RetryStorage
    health_table: HealthTable
    flusher: Flusher


def build_clients(settings: Settings, counters: Counters) -> Clients:
    """Build the credential, clients and adapters for ``settings``."""
    from shared.adapters.health_table import build_health_table
    from shared.adapters.retry_storage import build_retry_storage, storage_credential
    from shared.telemetry.flush import Flusher

    credential = build_credential(settings)
    storage_identity = storage_credential(settings.storage, settings.azure_client_id)
    health_table = build_health_table(
        settings.storage, storage_identity, table_name=settings.health_table_name
    )
    return Clients(
        credential=credential,
        storage_credential=storage_identity,
        secrets=build_secrets(settings, credential),
        sink=build_sink(settings, credential),
        storage=build_retry_storage(settings, storage_identity),
        health_table=health_table,
        flusher=Flusher(counters, health_table),
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
