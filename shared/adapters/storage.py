"""The retry queue (``RetryQueue`` port) on an Azure Storage queue, with a blob spill.

Messages are what the Functions host's queue trigger expects under host.json's
``"messageEncoding": "base64"``: the envelope's JSON text, base64-encoded
(``TextBase64EncodePolicy``). Each one is sent with:

- ``visibility_timeout``: the backoff, rounded *up* to whole seconds (so a
  ``Retry-After`` is honoured) and at most 7 days, the longest the service accepts;
- ``time_to_live=-1``: never expire. The default is 7 days, and a message that expires
  is deleted unread: an event lost.

An envelope whose text does not fit a queue message once base64-encoded (49,152 bytes,
see ``shared.delivery.envelope``) is written to the spill container and a
:class:`~shared.delivery.envelope.BlobPointer` is queued in its place. Blobs are named
``<first seen yyyy-mm-dd>/<envelope id>/<attempt>-<random>.json``: never overwritten, so
two copies of one envelope (a redelivery, a replay) cannot clobber each other. The
worker deletes a spill blob once its message is handled.

The queue and the containers are created on first use if they are missing. Every
storage failure surfaces as ``UpstreamUnavailable`` naming the operation and the error's
class, never the message text. The SDK clients are sync; calls run in a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import ContainerClient
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from shared.adapters.deadletters import BlobDeadLetters
from shared.adapters.storage_common import CLIENT_OPTIONS, unavailable, upload_json
from shared.config.storage import StorageConnection
from shared.delivery.backoff import MAX_VISIBILITY_TIMEOUT_SECONDS
from shared.delivery.envelope import BlobPointer, Envelope, fits_in_queue_message
from shared.errors import UpstreamUnavailable

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

logger = logging.getLogger(__name__)

NEVER_EXPIRE = -1
"""``time_to_live`` for a message that stays until it is deleted."""


class BlobSpill:
    """Envelopes too large for a queue message, kept as blobs (the worker's spill reader)."""

    def __init__(self, container: ContainerClient) -> None:
        self._container = container

    @property
    def container_name(self) -> str:
        """The spill container's name."""
        return str(self._container.container_name)

    async def write(self, envelope: Envelope, text: str) -> BlobPointer:
        """Store ``text`` (``envelope`` encoded) and return the pointer to queue instead.

        Raises:
            UpstreamUnavailable: storage did not accept it.
        """
        day = envelope.first_seen.strftime("%Y-%m-%d")
        name = f"{day}/{envelope.id}/{envelope.attempt}-{uuid.uuid4().hex}.json"
        try:
            await asyncio.to_thread(upload_json, self._container, name, text)
        except AzureError as error:
            raise unavailable("spill write", error) from None
        return BlobPointer(
            container=self.container_name,
            blob=name,
            envelope_id=envelope.id,
            target=envelope.target,
        )

    async def read(self, pointer: BlobPointer) -> str | None:
        """The envelope text ``pointer`` names, or None if no such blob is in this container.

        Raises:
            UpstreamUnavailable: storage cannot be read right now.
        """
        if pointer.container != self.container_name:
            logger.warning("Pointer %s names another container", pointer.envelope_id)
            return None
        try:
            data = await asyncio.to_thread(self._download, pointer.blob)
        except ResourceNotFoundError:
            return None
        except AzureError as error:
            raise unavailable("spill read", error) from None
        return data.decode("utf-8", errors="replace")

    async def delete(self, pointer: BlobPointer) -> None:
        """Delete the blob ``pointer`` names; a blob already gone is fine.

        Raises:
            UpstreamUnavailable: storage did not answer.
        """
        if pointer.container != self.container_name:
            return
        try:
            await asyncio.to_thread(self._container.delete_blob, pointer.blob)
        except ResourceNotFoundError:
            return
        except AzureError as error:
            raise unavailable("spill delete", error) from None

    def _download(self, name: str) -> bytes:
        return bytes(self._container.download_blob(name).readall())


class StorageRetryQueue:
    """``RetryQueue`` over a (sync) ``QueueClient`` sending base64 text, with a blob spill."""

    def __init__(self, queue: QueueClient, spill: BlobSpill) -> None:
        self._queue = queue
        self.spill = spill

    @property
    def queue_name(self) -> str:
        """The queue's name (``RETRY_QUEUE_NAME``)."""
        return str(self._queue.queue_name)

    async def enqueue(self, envelope: Envelope, *, delay_seconds: float = 0.0) -> None:
        """Queue ``envelope``, visible after ``delay_seconds`` (rounded up, at most 7 days).

        Raises:
            UpstreamUnavailable: storage did not accept it; nothing was queued.
        """
        text = envelope.encode()
        pointer: BlobPointer | None = None
        if not fits_in_queue_message(text):
            pointer = await self.spill.write(envelope, text)
            text = pointer.encode()
        delay = min(max(math.ceil(delay_seconds), 0), MAX_VISIBILITY_TIMEOUT_SECONDS)
        try:
            await asyncio.to_thread(self._send, text, delay)
        except AzureError as error:
            if pointer is not None:  # tidy up; a blob left behind costs only storage
                with contextlib.suppress(UpstreamUnavailable):
                    await self.spill.delete(pointer)
            raise unavailable("enqueue", error) from None
        logger.info(
            "Queued %s for %s (attempt %d, visible in %d s%s)",
            envelope.id,
            envelope.target,
            envelope.attempt,
            delay,
            ", spilled to a blob" if pointer is not None else "",
        )

    async def depth(self) -> int:
        """The queue's approximate message count, delayed messages included (0 if no queue).

        Raises:
            UpstreamUnavailable: storage did not answer.
        """
        try:
            properties = await asyncio.to_thread(self._queue.get_queue_properties)
        except ResourceNotFoundError:
            return 0
        except AzureError as error:
            raise unavailable("queue properties", error) from None
        return int(properties.approximate_message_count or 0)

    async def oldest_age_seconds(self, now: datetime) -> float | None:
        """Seconds since the message at the head of the queue was sent; None when empty.

        Peeking sees only visible messages: one waiting out its backoff is not counted.

        Raises:
            UpstreamUnavailable: storage did not answer.
        """
        try:
            messages = await asyncio.to_thread(self._queue.peek_messages, max_messages=1)
        except ResourceNotFoundError:
            return None
        except AzureError as error:
            raise unavailable("queue peek", error) from None
        if not messages or messages[0].inserted_on is None:
            return None
        return max(0.0, (now - messages[0].inserted_on).total_seconds())

    async def send_text(self, text: str) -> None:
        """Queue ``text`` as it is (an encoded envelope or pointer), visible at once.

        For moving messages back from the poison queue; :meth:`enqueue` is for envelopes.

        Raises:
            UpstreamUnavailable: storage did not accept it.
        """
        try:
            await asyncio.to_thread(self._send, text, 0)
        except AzureError as error:
            raise unavailable("enqueue", error) from None

    def _send(self, text: str, delay: int) -> None:
        options = {"visibility_timeout": delay, "time_to_live": NEVER_EXPIRE}
        try:
            self._queue.send_message(text, **options)
        except ResourceNotFoundError:  # QueueNotFound: create it, then send once more
            with contextlib.suppress(ResourceExistsError):
                self._queue.create_queue()
            self._queue.send_message(text, **options)


def build_retry_queue(
    connection: StorageConnection,
    credential: TokenCredential | None,
    *,
    queue_name: str,
    spill_container: str,
) -> StorageRetryQueue:
    """The retry queue on the host's storage account, with its spill container.

    Args:
        connection: from ``parse_storage_connection`` (the host's own settings).
        credential: the managed identity, used for identity-based connections only.
        queue_name: ``RETRY_QUEUE_NAME``.
        spill_container: ``RETRY_SPILL_CONTAINER``.
    """
    # The worker receives through the host, and peeks read only times, so no decode
    # policy: a message that is not base64 cannot make a health check fail.
    queue = queue_client(
        connection, credential, queue_name, message_encode_policy=TextBase64EncodePolicy()
    )
    spill = BlobSpill(container_client(connection, credential, spill_container))
    return StorageRetryQueue(queue, spill)


def queue_client(
    connection: StorageConnection,
    credential: TokenCredential | None,
    name: str,
    **policies: Any,
) -> QueueClient:
    """A ``QueueClient`` for ``name``: from the connection string, or URI + identity."""
    if connection.connection_string is not None:
        return QueueClient.from_connection_string(
            connection.connection_string, name, **policies, **CLIENT_OPTIONS
        )
    return QueueClient(
        _required(connection.queue_service_uri, "queue"),
        name,
        credential=credential,
        **policies,
        **CLIENT_OPTIONS,
    )


def build_dead_letters(
    connection: StorageConnection, credential: TokenCredential | None, *, container: str
) -> BlobDeadLetters:
    """The dead-letter store (``DEAD_LETTER_CONTAINER``) on the host's storage account."""
    return BlobDeadLetters(container_client(connection, credential, container))


def container_client(
    connection: StorageConnection, credential: TokenCredential | None, name: str
) -> ContainerClient:
    """A ``ContainerClient`` for ``name``: from the connection string, or URI + identity."""
    if connection.connection_string is not None:
        return ContainerClient.from_connection_string(
            connection.connection_string, name, **CLIENT_OPTIONS
        )
    return ContainerClient(
        _required(connection.blob_service_uri, "blob"),
        name,
        credential=credential,
        **CLIENT_OPTIONS,
    )


def _required(uri: str | None, service: str) -> str:
    if uri is None:  # parse_storage_connection sets both for identity connections
        raise ValueError(f"the storage connection has no {service} service URI")
    return uri
