"""The Azure clients behind the ports, built from the settings (by the root only).

The Azure SDK modules are imported inside the builders: a test webhook on a cold start
should not wait for them before it can be answered, and indexing imports none of them.
The storage side (queue, blobs, tables: about 0.35 s of imports, more on a busy core) is
built only when first used, and no webhook that Sentinel accepts uses it: the counters'
first write builds it in a background thread (:meth:`Clients.when_storage_ready`). The
ingestion token is fetched in a background thread as soon as the clients exist, so a
cold instance's first event fetches it while it reads the vault, not after.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from shared.config.settings import Settings
from shared.config.storage import StorageConnection
from shared.inbound.gcpause import tune_collector
from shared.ports import RowSink, SecretStore
from shared.telemetry.metrics import Counters

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

    from shared.adapters.deadletters import BlobDeadLetters
    from shared.adapters.health_table import HealthTable
    from shared.adapters.retry_storage import RetryStorage
    from shared.delivery.envelope import Envelope
    from shared.telemetry.flush import Flusher

logger = logging.getLogger(__name__)

_T = TypeVar("_T")


class Lazy(Generic[_T]):
    """A value built on first use, once, by whichever thread gets there first.

    A build that raises is tried again on the next use.
    """

    def __init__(self, build: Callable[[], _T]) -> None:
        self._build = build
        self._lock = threading.Lock()
        self._value: list[_T] = []  # empty until built
        self._warming = False
        self._warm_lock = threading.Lock()  # not the build lock: warm() never waits

    @property
    def ready(self) -> bool:
        """Whether the value is built."""
        return bool(self._value)

    def get(self) -> _T:
        """The value, built now if nobody has yet."""
        if self._value:  # the fast path takes no lock
            return self._value[0]
        with self._lock:
            if not self._value:
                self._value.append(self._build())
            return self._value[0]

    def warm(self, then: Callable[[], None] | None = None) -> None:
        """Build it in a daemon thread, then call ``then`` there (failures are logged).

        While one warm-up runs, or once built, nothing is started (and ``then`` not called).
        """
        with self._warm_lock:
            if self._warming or self._value:
                return
            self._warming = True

        def run() -> None:
            try:
                self.get()
                if then is not None:
                    then()
            except Exception as error:  # noqa: BLE001  # the next get() tries again
                logger.warning("Warming failed: %s", type(error).__name__)
            finally:
                self._warming = False

        threading.Thread(target=run, name="warm", daemon=True).start()


# A webhook sender is waiting: fail over to the retry queue fast.
CONNECTION_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 15
# No status retries: azure-core would sleep a 429's Retry-After inside the request.
INGESTION_RETRIES = {"retry_total": 2, "retry_connect": 2, "retry_read": 1, "retry_status": 0}


def environment_read_once(endpoint: str) -> dict[str, Any]:
    """Transport options holding what requests would read from the environment on every
    request: the proxy for ``endpoint`` (NO_PROXY applied) and the CA bundle.

    requests walks the whole environment for proxies on each request (about 0.3 ms of an
    upload, on the hot path); app settings cannot change without a restart, so once is
    enough.
    """
    import os

    from requests.utils import get_environ_proxies

    options: dict[str, Any] = {"use_env_settings": False}
    proxies = {
        scheme: url for scheme, url in get_environ_proxies(endpoint).items() if scheme != "no"
    }
    if proxies:
        options["proxies"] = proxies
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        options["connection_verify"] = bundle
    return options


@dataclass(frozen=True)
class _StorageSide:
    storage: RetryStorage
    health_table: HealthTable
    flusher: Flusher


@dataclass(frozen=True)
class Clients:
    """Every adapter the capabilities share, wired to Azure; the storage side on first use."""

    credential: TokenCredential
    storage_credential: TokenCredential | None
    secrets: SecretStore
    sink: RowSink
    _storage_side: Lazy[_StorageSide] = field(repr=False)

    @property
    def storage(self) -> RetryStorage:
        """The retry queue, spill, dead letters and poison queue (built on first use)."""
        return self._storage_side.get().storage

    @property
    def health_table(self) -> HealthTable:
        """The counters' table (built on first use)."""
        return self._storage_side.get().health_table

    @property
    def flusher(self) -> Flusher:
        """The counters' writer (built on first use)."""
        return self._storage_side.get().flusher

    def when_storage_ready(self, then: Callable[[Flusher], None]) -> None:
        """``then(flusher)`` now if the storage side is built, else once a thread built it.

        Called on the request path: the first request never waits for the storage imports.
        """
        if self._storage_side.ready:
            then(self.flusher)
        else:
            self._storage_side.warm(lambda: then(self.flusher))

    @property
    def retry_queue(self) -> DeferredRetryQueue:
        """The retry queue as a port, built when first used."""
        return DeferredRetryQueue(self)

    @property
    def dead_letters(self) -> DeferredDeadLetters:
        """The dead letters as a port, built when first used."""
        return DeferredDeadLetters(self)


class DeferredRetryQueue:
    """``RetryQueue`` over the clients' storage side, which it builds when first used."""

    def __init__(self, clients: Clients) -> None:
        self._clients = clients

    async def enqueue(self, envelope: Envelope, *, delay_seconds: float = 0.0) -> None:
        """See ``StorageRetryQueue.enqueue``."""
        await self._clients.storage.queue.enqueue(envelope, delay_seconds=delay_seconds)

    async def depth(self) -> int:
        """See ``StorageRetryQueue.depth``."""
        return await self._clients.storage.queue.depth()

    async def oldest_age_seconds(self, now: datetime) -> float | None:
        """See ``StorageRetryQueue.oldest_age_seconds``."""
        return await self._clients.storage.queue.oldest_age_seconds(now)


class DeferredDeadLetters:
    """``DeadLetters`` over the clients' storage side, which it builds when first used."""

    def __init__(self, clients: Clients) -> None:
        self._clients = clients

    def _store(self) -> BlobDeadLetters:
        return self._clients.storage.dead_letters

    async def count(self) -> int:
        """See ``BlobDeadLetters.count``."""
        return await self._store().count()

    async def put_unreadable(self, text: str, *, reason: str) -> str:
        """See ``BlobDeadLetters.put_unreadable``."""
        return await self._store().put_unreadable(text, reason=reason)

    async def put(self, envelope: Envelope, *, reason: str) -> str:
        """See ``BlobDeadLetters.put``."""
        return await self._store().put(envelope, reason=reason)


SDK_REQUEST_LOGGER = "azure.core.pipeline.policies.http_logging_policy"


def quiet_sdk_request_logs() -> None:
    """Keep azure-core's line per HTTP request (with its headers) out of INFO.

    The Functions worker forwards INFO records to Application Insights, and the SDKs log
    every request and response there: at thousands of uploads a minute that is most of
    the log volume and some of the CPU. Warnings and errors still go. A level set by the
    operator (anything but NOTSET) is left as it is.
    """
    sdk_requests = logging.getLogger(SDK_REQUEST_LOGGER)
    if sdk_requests.level == logging.NOTSET:
        sdk_requests.setLevel(logging.WARNING)


def build_clients(settings: Settings, counters: Counters) -> Clients:
    """Build the credential, clients and adapters for ``settings`` (storage on first use)."""
    quiet_sdk_request_logs()
    credential = build_credential(settings)
    storage_identity = build_storage_credential(settings.storage, settings.azure_client_id)

    def storage_side() -> _StorageSide:
        from shared.adapters.health_table import build_health_table
        from shared.adapters.retry_storage import build_retry_storage
        from shared.telemetry.flush import Flusher

        health_table = build_health_table(
            settings.storage, storage_identity, table_name=settings.health_table_name
        )
        side = _StorageSide(
            build_retry_storage(settings, storage_identity),
            health_table,
            Flusher(counters, health_table),
        )
        tune_collector()  # the storage SDKs and clients live as long as the process
        return side

    clients = Clients(
        credential=credential,
        storage_credential=storage_identity,
        secrets=build_secrets(settings, credential),
        sink=build_sink(settings, credential),
        _storage_side=Lazy(storage_side),
    )
    _warm_token(credential, _ingestion_scope(settings))
    tune_collector()  # the SDKs and clients just built live as long as the process
    return clients


def _ingestion_scope(settings: Settings) -> str:
    return settings.logs_ingestion_audience.rstrip("/") + "/.default"


def _warm_token(credential: TokenCredential, scope: str) -> None:
    """Fetch the ingestion token in a thread, beside the first request's vault read.

    The credential caches it, so the first upload finds it; a failure only means the
    upload fetches it itself.
    """
    Lazy(lambda: credential.get_token(scope)).warm()


def build_credential(settings: Settings) -> TokenCredential:
    """The app's managed identity (user-assigned when AZURE_CLIENT_ID is set)."""
    from azure.identity import ManagedIdentityCredential

    if settings.azure_client_id:
        return ManagedIdentityCredential(client_id=settings.azure_client_id)
    return ManagedIdentityCredential()


def build_storage_credential(
    connection: StorageConnection, app_client_id: str | None
) -> TokenCredential | None:
    """The managed identity for an identity connection; None for a connection string.

    ``AzureWebJobsStorage__clientId`` wins over ``AZURE_CLIENT_ID``, as in the host.
    """
    if not connection.uses_identity:
        return None
    from azure.identity import ManagedIdentityCredential

    client_id = connection.client_id or app_client_id
    return (
        ManagedIdentityCredential(client_id=client_id) if client_id else ManagedIdentityCredential()
    )


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
        credential_scopes=[_ingestion_scope(settings)],
        connection_timeout=CONNECTION_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        **INGESTION_RETRIES,
        **environment_read_once(settings.logs_ingestion_endpoint),
    )
    return LogsIngestionSink(
        client,
        settings.logs_ingestion_dcr_id,
        routes=settings.logs_ingestion_dcr_routes,
        coalesce_window_seconds=settings.coalesce_window_seconds,
    )
