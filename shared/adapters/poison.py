"""The host's poison queue for the retry queue: seen, counted, and put back.

The worker raises only when storage fails under it; after ``maxDequeueCount`` such
failures the Functions host copies the message, still base64-encoded as received, to
``<RETRY_QUEUE_NAME>-poison`` and deletes the original. Nothing reads that queue, so
once storage is healthy again an operator puts its messages back on the retry queue
(``python -m shared.retrying poison``). A message that is not base64 (the host poisons
those without calling the function) becomes an unreadable dead letter instead.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.storage.queue import QueueClient, QueueMessage

from shared.adapters.deadletters import BlobDeadLetters
from shared.adapters.storage import StorageRetryQueue, queue_client
from shared.adapters.storage_common import unavailable
from shared.config.storage import StorageConnection

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

logger = logging.getLogger(__name__)

POISON_SUFFIX = "-poison"
_HOLD_SECONDS = 120  # a message being moved stays hidden this long, then reappears


@dataclass(frozen=True)
class PoisonReport:
    """What one pass over the poison queue did."""

    requeued: int
    dead_lettered: int


class PoisonQueue:
    """``<queue>-poison`` over a (sync) ``QueueClient`` reading raw (still encoded) text."""

    def __init__(
        self, poison: QueueClient, retry: StorageRetryQueue, dead_letters: BlobDeadLetters
    ) -> None:
        self._poison = poison
        self._retry = retry
        self._dead_letters = dead_letters

    async def depth(self) -> int:
        """Approximately how many messages wait in the poison queue (0 if it does not exist).

        Raises:
            UpstreamUnavailable: storage did not answer.
        """
        try:
            properties = await asyncio.to_thread(self._poison.get_queue_properties)
        except ResourceNotFoundError:
            return 0
        except AzureError as error:
            raise unavailable("poison queue properties", error) from None
        return int(properties.approximate_message_count or 0)

    async def requeue(self, *, limit: int = 100) -> PoisonReport:
        """Move up to ``limit`` messages back to the retry queue, each deleted once moved.

        Raises:
            UpstreamUnavailable: storage did not answer; messages not yet moved stay.
        """
        requeued = dead = 0
        while requeued + dead < limit:
            batch = await self._receive(min(32, limit - requeued - dead))
            if not batch:
                break
            for message in batch:
                text = _decoded(message.content)
                if text is None:
                    reason = "poison message is not base64 (the host never ran it)"
                    await self._dead_letters.put_unreadable(str(message.content), reason=reason)
                    dead += 1
                else:
                    await self._retry.send_text(text)
                    requeued += 1
                await self._delete(message)
        logger.info("Poison queue: %d message(s) re-queued, %d dead-lettered", requeued, dead)
        return PoisonReport(requeued, dead)

    async def _receive(self, count: int) -> list[QueueMessage]:
        def receive() -> list[QueueMessage]:
            pages = self._poison.receive_messages(
                messages_per_page=count, max_messages=count, visibility_timeout=_HOLD_SECONDS
            )
            return list(pages)

        try:
            return await asyncio.to_thread(receive)
        except ResourceNotFoundError:
            return []
        except AzureError as error:
            raise unavailable("poison receive", error) from None

    async def _delete(self, message: QueueMessage) -> None:
        try:
            await asyncio.to_thread(self._poison.delete_message, message)
        except AzureError as error:
            raise unavailable("poison delete", error) from None


def _decoded(content: object) -> str | None:
    try:
        return base64.b64decode(str(content), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


def build_poison_queue(
    connection: StorageConnection,
    credential: TokenCredential | None,
    *,
    retry: StorageRetryQueue,
    dead_letters: BlobDeadLetters,
) -> PoisonQueue:
    """The poison queue of ``retry`` (``<RETRY_QUEUE_NAME>-poison``), read without decoding."""
    poison = queue_client(connection, credential, retry.queue_name + POISON_SUFFIX)
    return PoisonQueue(poison, retry, dead_letters)
