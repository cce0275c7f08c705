"""Queue triggers: poll a storage queue with the Storage extension's semantics.

As in the real host (``QueueListener``, ``QueuesOptions``): a batch of up to
``batchSize`` is received and held invisible for ten minutes, renewed while the function
runs; another batch is fetched once no more than ``newBatchThreshold`` are in flight;
an idle queue is polled with exponential back-off from 100 ms to ``maxPollingInterval``.
Success deletes the message. A failure releases it after ``visibilityTimeout``, or, once
``dequeue_count >= maxDequeueCount``, copies the original (still encoded) text to
``<queue>-poison`` (created on demand) and deletes it. A message that is not valid base64
under ``messageEncoding: base64`` goes to poison without invoking the function.

A queue whose name already ends in ``-poison``, or is too long for the suffix, has no
poison queue: a failed message is then left invisible until its hold expires, to avoid
a fast infinite loop (``QueueProcessor.CompleteProcessingMessageAsync``).

Differences: connections are connection strings only (no ``__queueServiceUri``
identity connections); the idle back-off is not randomised.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import os
from collections.abc import Mapping
from typing import Any

from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
)
from azure.functions.queue import QueueMessage as FunctionQueueMessage
from azure.storage.queue import QueueMessage as StorageQueueMessage
from azure.storage.queue.aio import QueueClient

from local.host.config import QueueOptions
from local.host.invoke import invoke
from local.host.loader import LoadedFunction, connection_string, resolve_app_setting

logger = logging.getLogger(__name__)

DEFAULT_HOLD_SECONDS = 600  # the real host's invisibility while a message is processed
MIN_POLLING_INTERVAL = 0.1
_MAX_QUEUE_NAME = 63
_POISON_SUFFIX = "-poison"
_RECEIPT_MISMATCH = "PopReceiptMismatch"
_DECODE_FAILED = "Message decoding has failed! Check MessageEncoding settings."
# Retries (1, 3, 5, 9, 17, 33 s) that outlast an Azurite restart without the SDK's default
# +-3 s jitter, so a restart mid-test costs about a second, not several.
_CLIENT_RETRY: dict[str, Any] = {
    "retry_total": 6,
    "initial_backoff": 1,
    "increment_base": 2,
    "random_jitter_range": 0,
}


class QueueTrigger:
    """Feeds one queue's messages to one queue-triggered function.

    Args:
        function: The queue-triggered function.
        options: host.json ``extensions.queues``.
        hold_seconds: How long a received message stays invisible while it runs.
        environ: The app settings (``%NAME%`` queue names, the connection setting).
    """

    def __init__(
        self,
        function: LoadedFunction,
        options: QueueOptions,
        *,
        hold_seconds: int = DEFAULT_HOLD_SECONDS,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        self.function = function
        self.options = options
        self.queue_name = resolve_app_setting(str(function.trigger["queueName"]), environ)
        self._connection = connection_string(function.trigger.get("connection"), environ)
        self._hold_seconds = hold_seconds
        self._client = QueueClient.from_connection_string(
            self._connection, self.queue_name, **_CLIENT_RETRY
        )
        poison_name = f"{self.queue_name}{_POISON_SUFFIX}"
        self.poison_queue_name: str | None = (
            None
            if self.queue_name.endswith(_POISON_SUFFIX) or len(poison_name) > _MAX_QUEUE_NAME
            else poison_name
        )
        self._poison_client: QueueClient | None = None
        self._in_flight: set[asyncio.Task[None]] = set()

    async def prepare(self) -> None:
        """Create the queue if it does not exist."""
        await _create_if_missing(self._client)

    async def run(self) -> None:
        """Poll until cancelled; each message is processed in its own task."""
        idle_delay = MIN_POLLING_INTERVAL
        while True:
            if len(self._in_flight) > self.options.new_batch_threshold:
                await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)
                continue
            messages = await self._receive_batch()
            if messages:
                idle_delay = MIN_POLLING_INTERVAL
                for message in messages:
                    task = asyncio.create_task(self._process(message))
                    self._in_flight.add(task)
                    task.add_done_callback(self._in_flight.discard)
                continue
            await asyncio.sleep(idle_delay)
            idle_delay = min(idle_delay * 2, self.options.max_polling_interval)

    async def drain(self, grace_seconds: float) -> None:
        """Wait up to ``grace_seconds`` for running invocations, then cancel the rest.

        A cancelled message stays invisible until its hold expires, then is redelivered.
        """
        if self._in_flight:
            _, pending = await asyncio.wait(self._in_flight, timeout=grace_seconds)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)

    async def close(self) -> None:
        """Close the storage clients."""
        await self._client.close()
        if self._poison_client is not None:
            await self._poison_client.close()

    async def _receive_batch(self) -> list[StorageQueueMessage]:
        try:
            pages = self._client.receive_messages(
                messages_per_page=self.options.batch_size,
                max_messages=self.options.batch_size,
                visibility_timeout=self._hold_seconds,
            )
            return [message async for message in pages]
        except AzureError as error:
            logger.warning("Polling queue %s failed: %s", self.queue_name, type(error).__name__)
            return []

    async def _process(self, message: StorageQueueMessage) -> None:
        receipt = _Receipt(message.pop_receipt or "")
        renewer = asyncio.create_task(self._keep_hidden(message, receipt))
        try:
            outcome = await self._invoke(message)
        finally:
            renewer.cancel()
            await asyncio.gather(renewer, return_exceptions=True)
        try:
            await self._settle(message, receipt.value, outcome)
        except AzureError as error:
            # The message reappears when its hold expires, as after a crash.
            logger.warning("Settling message %s failed: %s", message.id, type(error).__name__)

    async def _invoke(self, message: StorageQueueMessage) -> str:
        text: str = message.content
        try:
            body = _decode(text, self.options.message_encoding)
        except ValueError:
            logger.error("%s (queue %s, message %s)", _DECODE_FAILED, self.queue_name, message.id)
            return "undecodable"
        trigger_value = FunctionQueueMessage(  # type: ignore[no-untyped-call]
            id=message.id,
            body=body,
            dequeue_count=message.dequeue_count,
            pop_receipt=message.pop_receipt,
            insertion_time=message.inserted_on,
            expiration_time=message.expires_on,
            time_next_visible=message.next_visible_on,
        )
        detail = f"queue {self.queue_name}, id {message.id}, dequeue {message.dequeue_count}"
        try:
            await invoke(self.function, trigger_value, trigger_detail=detail)
        except Exception:  # noqa: BLE001  # invoke() logged it; the message is released
            return "failed"
        return "succeeded"

    async def _settle(self, message: StorageQueueMessage, pop_receipt: str, outcome: str) -> None:
        try:
            if outcome == "succeeded":
                await self._client.delete_message(message.id, pop_receipt)
            elif self.poison_queue_name is None:
                logger.warning(
                    "Message %s stays invisible: %s has no poison queue",
                    message.id,
                    self.queue_name,
                )
            elif outcome == "undecodable" or (
                (message.dequeue_count or 0) >= self.options.max_dequeue_count
            ):
                await self._move_to_poison(message, pop_receipt)
            else:
                await self._client.update_message(
                    message.id,
                    pop_receipt,
                    visibility_timeout=round(self.options.visibility_timeout),
                )
        except HttpResponseError as error:
            # Gone, or another receiver holds it now (the hold expired): nothing left to do.
            if (
                not isinstance(error, ResourceNotFoundError)
                and getattr(error, "error_code", None) != _RECEIPT_MISMATCH
            ):
                raise
            logger.info("Message %s was no longer ours to settle", message.id)

    async def _move_to_poison(self, message: StorageQueueMessage, pop_receipt: str) -> None:
        if self._poison_client is None:
            assert self.poison_queue_name is not None
            self._poison_client = QueueClient.from_connection_string(
                self._connection, self.poison_queue_name, **_CLIENT_RETRY
            )
            await _create_if_missing(self._poison_client)
        # Copied as received: still encoded, so it can be replayed onto the queue as is.
        await self._poison_client.send_message(message.content)
        await self._client.delete_message(message.id, pop_receipt)
        logger.warning(
            "Message %s moved to queue %s (dequeue count %d, maxDequeueCount %d)",
            message.id,
            self.poison_queue_name,
            message.dequeue_count or 0,
            self.options.max_dequeue_count,
        )

    async def _keep_hidden(self, message: StorageQueueMessage, receipt: _Receipt) -> None:
        while True:
            await asyncio.sleep(self._hold_seconds / 2)
            try:
                updated = await self._client.update_message(
                    message.id, receipt.value, visibility_timeout=self._hold_seconds
                )
            except AzureError as error:
                logger.warning("Renewing message %s failed: %s", message.id, type(error).__name__)
                continue
            receipt.value = updated.pop_receipt or receipt.value


class _Receipt:
    """The current pop receipt of a held message; each update issues a new one."""

    def __init__(self, value: str) -> None:
        self.value = value


def _decode(text: str, encoding: str) -> bytes:
    if encoding == "none":
        return text.encode("utf-8")
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as error:
        raise ValueError("not base64") from error


async def _create_if_missing(client: QueueClient) -> None:
    with contextlib.suppress(ResourceExistsError):
        await client.create_queue()
