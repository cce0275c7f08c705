"""Timer triggers as singletons: one host of many fires each timer, through a blob lease.

As in the real host: a timer's listener runs only while its host holds the lease on a
lock blob in the ``azure-webjobs-hosts`` container of ``AzureWebJobsStorage``, at
``locks/<hostId>/Host.Functions.<FunctionName>.Listener``. The shape is the WebJobs SDK's:
``BlobLeaseDistributedLockManager`` keeps lock blobs in ``azure-webjobs-hosts`` under the
``locks`` directory; ``SingletonManager.FormatLockId`` names a function's lock
``<hostId>/<function's full name>``, which the Functions host gives as
``Host.Functions.<name>``; ``SingletonListener`` appends ``.Listener``
(Azure/azure-webjobs-sdk, src/Microsoft.Azure.WebJobs.Host/Singleton/). Hosts with the
same host id (one app, scaled out) share the lock; the host id is
``AzureFunctionsWebHost__hostid``, else the site name (``WEBSITE_SITE_NAME``) or the
machine name, lower-cased, cut to 32 characters.

A host that does not hold the lease tries again every ``retry_seconds``; the holder
renews it every ``RENEW_SECONDS`` and stops firing as soon as a renewal says the lease
is gone (or none succeeded for a whole lease period); a host that stops releases it,
and one that dies loses it within ``LEASE_SECONDS``.

Differences: the lease is 15 s (the shortest Blob storage grants) where the real
host's listener lock is 60 s; a host without the lease tries again every few seconds,
not every minute, so a takeover after a crash shows within a test's patience; and the
holder also renews just before each run, so a host whose lease was taken (or expired
while its loop stalled) skips that run instead of firing beside the new holder until
its next renewal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
import time
import uuid
from collections.abc import Mapping

from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
)
from azure.storage.blob.aio import BlobClient, BlobLeaseClient, ContainerClient

from local.host.timers import TimerTrigger

logger = logging.getLogger(__name__)

HOSTS_CONTAINER = "azure-webjobs-hosts"
HOST_ID_SETTING = "AzureFunctionsWebHost__hostid"
LEASE_SECONDS = 15
RENEW_SECONDS = 5.0
RETRY_SECONDS = 3.0
_MAX_HOST_ID = 32


def host_id(environ: Mapping[str, str]) -> str:
    """The host id: the setting, else the site or machine name, made a valid id."""
    explicit = environ.get(HOST_ID_SETTING, "").strip()
    if explicit:
        return explicit
    base = environ.get("WEBSITE_SITE_NAME") or socket.gethostname()
    cleaned = re.sub(r"[^a-z0-9-]", "", base.lower())[:_MAX_HOST_ID].strip("-")
    return cleaned or "localhost"


def listener_lock_name(host: str, function_name: str) -> str:
    """The lock blob's name in ``azure-webjobs-hosts`` (see the module docstring)."""
    return f"locks/{host}/Host.Functions.{function_name}.Listener"


class BlobLease:
    """The lease on one lock blob, held under this host's own lease id."""

    def __init__(self, connection_string: str, blob_name: str) -> None:
        self.blob_name = blob_name
        self._connection_string = connection_string
        self._blob = BlobClient.from_connection_string(
            connection_string, HOSTS_CONTAINER, blob_name, retry_total=2
        )
        self._lease_id = str(uuid.uuid4())
        self._lease = BlobLeaseClient(self._blob, lease_id=self._lease_id)

    async def acquire(self) -> bool:
        """Take the lease; False while another host holds it."""
        try:
            await self._lease.acquire(lease_duration=LEASE_SECONDS)
        except ResourceNotFoundError:  # no container or blob yet: create, then once more
            await self._create_blob()
            return await self._acquire_existing()
        except HttpResponseError as error:
            if error.status_code == 409:  # LeaseAlreadyPresent
                return False
            raise
        return True

    async def renew(self) -> bool:
        """Renew the lease; False when it is lost (another host took it, or it was deleted)."""
        try:
            await self._lease.renew()
        except HttpResponseError as error:
            if error.status_code in (404, 409, 412):
                return False
            raise
        return True

    async def release(self) -> bool:
        """Give the lease up; False when this host did not hold it (or storage failed)."""
        try:
            await self._lease.release()
        except AzureError:
            return False
        finally:
            # The SDK's client forgets its lease id on release; keep ours for the next one.
            self._lease = BlobLeaseClient(self._blob, lease_id=self._lease_id)
        return True

    async def close(self) -> None:
        """Close the client's connections."""
        await self._blob.close()

    async def _acquire_existing(self) -> bool:
        try:
            await self._lease.acquire(lease_duration=LEASE_SECONDS)
        except HttpResponseError as error:
            if error.status_code == 409:
                return False
            raise
        return True

    async def _create_blob(self) -> None:
        container = ContainerClient.from_connection_string(
            self._connection_string, HOSTS_CONTAINER, retry_total=2
        )
        async with container:
            with contextlib.suppress(ResourceExistsError):
                await container.create_container()
        with contextlib.suppress(ResourceExistsError, HttpResponseError):
            await self._blob.upload_blob(b"", overwrite=False)


class SingletonTimer:
    """Runs ``timer`` only while this host holds its listener lock.

    Args:
        timer: The timer trigger to run while the lock is held.
        lease: The lock blob's lease.
        retry_seconds: How often a host without the lease tries to take it.
    """

    def __init__(
        self, timer: TimerTrigger, lease: BlobLease, *, retry_seconds: float = RETRY_SECONDS
    ) -> None:
        self.timer = timer
        self._lease = lease
        self._retry_seconds = retry_seconds
        self._renewed = float("-inf")
        self._lost = asyncio.Event()
        timer.may_fire = self._confirm

    def _lease_is_fresh(self) -> bool:
        return time.monotonic() - self._renewed < LEASE_SECONDS - 1

    async def _confirm(self) -> bool:
        """Renew just before a run: a host that lost its lock (it expired while the loop
        stalled, or was taken) skips the run and stops, rather than fire beside the new
        holder until its next renewal. A storage error trusts a recent renewal."""
        if not self._lease_is_fresh():
            self._lost.set()
            return False
        try:
            held = await self._lease.renew()
        except AzureError:
            return self._lease_is_fresh()
        if not held:
            self._lost.set()
            return False
        self._renewed = time.monotonic()
        return True

    async def run(self) -> None:
        """Take the lock, fire while holding it, take it again when lost; until cancelled."""
        name, lock = self.timer.function.name, self._lease.blob_name
        try:
            while True:
                if not await self._try_acquire():
                    await asyncio.sleep(self._retry_seconds)
                    continue
                self._renewed = time.monotonic()
                self._lost.clear()
                logger.info("Singleton lock acquired (%s); timer %s fires here", lock, name)
                listener = asyncio.create_task(self.timer.run())
                try:
                    await self._hold(listener)
                finally:
                    listener.cancel()
                    await asyncio.gather(listener, return_exceptions=True)
                logger.warning("Singleton lock lost (%s); timer %s stops here", lock, name)
        finally:
            if await self._lease.release():
                logger.info("Singleton lock released (%s)", lock)
            await self._lease.close()

    async def _try_acquire(self) -> bool:
        try:
            return await self._lease.acquire()
        except AzureError as error:
            lock, reason = self._lease.blob_name, type(error).__name__
            logger.warning("Singleton lock %s not taken (%s)", lock, reason)
            return False

    async def _hold(self, listener: asyncio.Task[None]) -> None:
        """Renew until the lease is lost; a listener that dies of a bug raises here."""
        lost = asyncio.create_task(self._lost.wait())
        try:
            await self._renew_until_lost(listener, lost)
        finally:
            lost.cancel()

    async def _renew_until_lost(
        self, listener: asyncio.Task[None], lost: asyncio.Task[bool]
    ) -> None:
        while True:
            done, _ = await asyncio.wait(
                {listener, lost}, timeout=RENEW_SECONDS, return_when=asyncio.FIRST_COMPLETED
            )
            if listener in done:
                listener.result()  # raises what killed it; a listener never returns
                return
            if lost in done:
                return  # a run found the lock gone
            try:
                if not await self._lease.renew():
                    self._renewed = float("-inf")
                    return
                self._renewed = time.monotonic()
            except AzureError as error:
                logger.warning("Singleton lock renewal failed (%s)", type(error).__name__)
                if not self._lease_is_fresh():
                    return  # it may have expired already: another host may be firing
