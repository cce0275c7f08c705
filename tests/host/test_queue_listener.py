"""QueueTrigger in-process against Azurite: plain-text encoding and poison-less queues."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import azure.functions as func
import pytest
from azure.storage.queue import QueueClient

from local.azurite import Azurite
from local.host.config import QueueOptions
from local.host.loader import LoadedFunction, index_functions
from local.host.queues import QueueTrigger

pytestmark = pytest.mark.e2e

_IMMEDIATE = QueueOptions(
    batch_size=4,
    new_batch_threshold=2,
    max_dequeue_count=2,
    visibility_timeout=0.0,
    max_polling_interval=0.2,
    message_encoding="none",
)


# Handlers are async so they set their asyncio.Event on the loop's own thread.
def queue_function(handler: Callable[[func.QueueMessage], Awaitable[None]]) -> LoadedFunction:
    app = func.FunctionApp()
    app.queue_trigger(arg_name="msg", queue_name="%QUEUE%", connection="Storage")(handler)
    (function,) = index_functions(app)
    return function


def run_listener(trigger: QueueTrigger, called: asyncio.Event, then_wait: float = 0.0) -> None:
    """Run the listener until the function was called, plus ``then_wait`` seconds."""

    async def main() -> None:
        await trigger.prepare()
        listening = asyncio.create_task(trigger.run())
        try:
            async with asyncio.timeout(15):
                await called.wait()
            await asyncio.sleep(then_wait)
        finally:
            listening.cancel()
            await asyncio.gather(listening, return_exceptions=True)
            await trigger.drain(5)
            await trigger.close()

    asyncio.run(main())


def test_plain_text_encoding_passes_the_body_and_metadata(azurite: Azurite) -> None:
    """With messageEncoding none the text arrives as is, with id and dequeue count; then deleted."""
    queue_name = f"plain-{uuid.uuid4().hex[:8]}"
    seen: list[func.QueueMessage] = []
    called = asyncio.Event()

    async def handler(msg: func.QueueMessage) -> None:
        seen.append(msg)
        called.set()

    environ = {"QUEUE": queue_name, "Storage": azurite.connection_string}
    trigger = QueueTrigger(queue_function(handler), _IMMEDIATE, environ=environ)
    with QueueClient.from_connection_string(azurite.connection_string, queue_name) as client:
        client.create_queue()
        sent = client.send_message('{"a": 1}')
        run_listener(trigger, called)
        assert client.get_queue_properties().approximate_message_count == 0
    (message,) = seen
    assert message.get_body() == b'{"a": 1}'
    assert (message.id, message.dequeue_count) == (sent.id, 1)
    assert message.insertion_time is not None


def test_a_queue_without_poison_queue_keeps_failed_messages_hidden(azurite: Azurite) -> None:
    """A failure on a -poison queue is not released, so it is not retried in a tight loop."""
    queue_name = f"q{uuid.uuid4().hex[:8]}-poison"
    attempts: list[int | None] = []
    called = asyncio.Event()

    async def handler(msg: func.QueueMessage) -> None:
        attempts.append(msg.dequeue_count)
        called.set()
        raise RuntimeError("always fails")

    environ = {"QUEUE": queue_name, "Storage": azurite.connection_string}
    trigger = QueueTrigger(queue_function(handler), _IMMEDIATE, hold_seconds=30, environ=environ)
    assert trigger.poison_queue_name is None
    with QueueClient.from_connection_string(azurite.connection_string, queue_name) as client:
        client.create_queue()
        client.send_message("poisoned already")
        run_listener(trigger, called, then_wait=1.0)
        assert client.get_queue_properties().approximate_message_count == 1
    assert attempts == [1]
