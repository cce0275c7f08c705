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
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.ports import DeadLetters, RetryQueue, RowSink, SecretStore
from shared.settings import Settings

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

logger = logging.getLogger(__name__)

# A webhook sender is waiting: fail over to the sender's retry (or the retry queue) fast.
CONNECTION_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 15
# No status retries: azure-core would sleep a 429's Retry-After inside the request.
INGESTION_RETRIES = {"retry_total": 2, "retry_connect": 2, "retry_read": 1, "retry_status": 0}


@dataclass(frozen=True)
class Bridge:
    """Everything the services need, wired to Azure."""

    settings: Settings
    credential: TokenCredential
    secrets: SecretStore
    sink: RowSink
    retry_queue: RetryQueue
    dead_letters: DeadLetters
    rng: random.Random


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
            logger.info("Bridge clients built (vault %s)", settings.key_vault_uri)
        return _bridge


def reset_bridge() -> None:
    """Forget the built clients (tests; a settings change in a long-lived process)."""
    global _bridge
    with _lock:
        _bridge = None


def build_bridge(settings: Settings) -> Bridge:
    """Build the credential, clients and adapters for ``settings``."""
    credential = build_credential(settings)
    return Bridge(
        settings=settings,
        credential=credential,
        secrets=build_secrets(settings, credential),
        sink=build_sink(settings, credential),
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
    """The Logs Ingestion API for the configured DCR."""
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
    return LogsIngestionSink(client, settings.logs_ingestion_dcr_id)
