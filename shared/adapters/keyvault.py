"""Key Vault secrets behind the ``SecretStore`` port, cached so an outage does not stop intake.

A value read once is served from memory for ``ttl_seconds``; after that the vault is
asked again, and if it cannot answer the last value keeps being served (and a warning
logged) rather than refusing webhooks while Key Vault is down. Only when no value was
ever read does an outage surface, as ``UpstreamUnavailable`` (503, never 401).

One read per secret at a time: the requests that find a value expired together share the
read already on its way. At thousands of webhooks a second, every request in flight when
the TTL ends would otherwise send its own, and queue behind the others for the few
worker threads.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from azure.core.exceptions import AzureError, HttpResponseError, ResourceNotFoundError
from azure.keyvault.secrets import SecretClient

from shared.errors import SecretMissing, UpstreamUnavailable

logger = logging.getLogger(__name__)

DEFAULT_TTL_SECONDS = 300.0


@dataclass(frozen=True)
class _Cached:
    value: str
    fetched_at: float


class KeyVaultSecrets:
    """``SecretStore`` over a (sync) ``SecretClient``; calls run in a worker thread."""

    def __init__(
        self,
        client: SecretClient,
        *,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._cache: dict[str, _Cached] = {}
        self._reading: dict[str, concurrent.futures.Future[str]] = {}
        self._lock = threading.Lock()

    async def get(self, name: str, *, max_age: float | None = None) -> str:
        """The secret's value; see the module docstring for caching and outages."""
        limit = self._ttl if max_age is None else min(max_age, self._ttl)
        with self._lock:
            cached = self._cache.get(name)
            if cached is not None and self._monotonic() - cached.fetched_at < limit:
                return cached.value
            reading = self._reading.get(name)
            if reading is None:
                # Running from the start, so a waiter's cancellation cannot cancel it.
                reading = self._reading[name] = concurrent.futures.Future()
                reading.set_running_or_notify_cancel()
                asyncio.get_running_loop().run_in_executor(None, self._read, name, cached, reading)
        return await asyncio.wrap_future(reading)

    def _read(
        self, name: str, cached: _Cached | None, reading: concurrent.futures.Future[str]
    ) -> None:
        """The one read of ``name`` that every waiter shares (in a worker thread)."""
        try:
            reading.set_result(self._fetch(name, cached))
        except BaseException as error:  # noqa: BLE001  # every waiter learns of it
            reading.set_exception(error)
        finally:
            with self._lock:
                self._reading.pop(name, None)

    async def probe(self, name: str) -> None:
        """Read ``name`` from the vault itself (see ``SecretStore.probe``)."""
        await asyncio.to_thread(self._probe, name)

    def _probe(self, name: str) -> None:
        try:
            secret = self._client.get_secret(name)
        except ResourceNotFoundError:
            raise SecretMissing(name) from None
        except HttpResponseError as error:
            if _is_disabled(error):
                raise SecretMissing(name) from None
            raise UpstreamUnavailable(
                f"Key Vault answered {error.status_code}", upstream_status=error.status_code
            ) from None
        except AzureError as error:
            raise UpstreamUnavailable(f"Key Vault unreachable ({type(error).__name__})") from None
        if secret.value is None or not secret.properties.enabled:
            raise SecretMissing(name)

    def _fetch(self, name: str, cached: _Cached | None) -> str:
        try:
            secret = self._client.get_secret(name)
        except HttpResponseError as error:
            if not _is_not_found_or_disabled(error):
                return self._fall_back(name, cached, error)
            logger.warning("Key Vault has no enabled secret named %s", name)
            with self._lock:
                self._cache.pop(name, None)  # deleting a secret is how a source is switched off
            raise SecretMissing(name) from None
        except AzureError as error:
            return self._fall_back(name, cached, error)
        if secret.value is None or not secret.properties.enabled:
            raise SecretMissing(name)
        with self._lock:
            self._cache[name] = _Cached(secret.value, self._monotonic())
        return secret.value

    def _fall_back(self, name: str, cached: _Cached | None, error: AzureError) -> str:
        """Serve the last value read when the vault fails; without one, 503."""
        if cached is not None:
            logger.warning(
                "Key Vault unreachable (%s); serving secret %s as read %.0f s ago",
                type(error).__name__,
                name,
                self._monotonic() - cached.fetched_at,
            )
            return cached.value
        logger.error("Key Vault unreachable (%s) reading secret %s", type(error).__name__, name)
        raise UpstreamUnavailable("The secret store is unreachable; try again later.") from None


def _is_disabled(error: HttpResponseError) -> bool:
    """Key Vault answers 403 Forbidden/SecretDisabled for a disabled secret."""
    inner = getattr(error.error, "innererror", None) or {}
    return error.status_code == 403 and inner.get("code") == "SecretDisabled"


def _is_not_found_or_disabled(error: HttpResponseError) -> bool:
    return isinstance(error, ResourceNotFoundError) or _is_disabled(error)
