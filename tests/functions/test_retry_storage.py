"""The retry queue, spill and dead letters with the real SDK clients against Azurite."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime

import pytest
from azure.storage.blob import ContainerClient
from azure.storage.queue import QueueClient

from local.azurite import Azurite
from local.host.ports import free_port
from shared.adapters.deadletters import is_dead_letter_name
from shared.adapters.retry_storage import RetryStorage, build_retry_storage
from shared.adapters.storage import StorageRetryQueue
from shared.delivery.envelope import MAX_QUEUE_TEXT_BYTES, BlobPointer, Envelope, decode_message
from shared.errors import UpstreamUnavailable
from tests.azure_fixtures import storage_env
from tests.retry_support import (
    TARGET,
    envelope,
    fig_row,
    host_decode,
    retry_settings,
)


def received_texts(queue: QueueClient) -> list[str]:
    return [host_decode(m.content) for m in queue.receive_messages(max_messages=32)]


def test_an_envelope_travels_as_the_host_expects(
    retry_storage: RetryStorage, raw_queue: QueueClient
) -> None:
    """Base64 on the wire; decoded like the host, it is the envelope; it never expires."""
    sent = envelope()
    asyncio.run(retry_storage.queue.enqueue(sent))
    [message] = list(raw_queue.receive_messages(max_messages=32))
    assert Envelope.decode(host_decode(message.content)) == sent
    assert message.expires_on is not None
    assert message.expires_on.year == 9999  # time_to_live=-1: never deleted unread


def test_the_queue_is_created_on_first_use(azurite: Azurite) -> None:
    """A queue that does not exist yet is created by the first enqueue."""
    storage = build_retry_storage(retry_settings(storage_env(azurite)), None)
    asyncio.run(storage.queue.enqueue(envelope()))
    assert asyncio.run(storage.queue.depth()) == 1


def test_a_delayed_envelope_is_invisible_until_its_time(
    retry_storage: RetryStorage, raw_queue: QueueClient
) -> None:
    """delay_seconds becomes the message's visibility timeout (rounded up)."""
    sent = envelope()
    asyncio.run(retry_storage.queue.enqueue(sent, delay_seconds=1.2))
    assert asyncio.run(retry_storage.queue.depth()) == 1
    assert raw_queue.peek_messages(max_messages=32) == []
    assert asyncio.run(retry_storage.queue.oldest_age_seconds(datetime.now(UTC))) is None
    deadline = time.monotonic() + 30
    while not (texts := received_texts(raw_queue)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [Envelope.decode(t) for t in texts] == [sent]


def test_oldest_age_reads_the_head_of_the_queue(retry_storage: RetryStorage) -> None:
    """The age of the first visible message, measured from its insertion time."""
    assert asyncio.run(retry_storage.queue.oldest_age_seconds(datetime.now(UTC))) is None
    asyncio.run(retry_storage.queue.enqueue(envelope()))
    later = datetime.now(UTC).replace(year=datetime.now(UTC).year + 1)
    age = asyncio.run(retry_storage.queue.oldest_age_seconds(later))
    assert age is not None
    assert age > 300 * 24 * 3600


def test_a_large_envelope_spills_to_a_blob(
    retry_storage: RetryStorage, raw_queue: QueueClient
) -> None:
    """Over 49,152 bytes: a pointer is queued and the blob holds the envelope's text."""
    seen = datetime.now(UTC)
    big = envelope(rows=[fig_row(seen, Message="x" * 30_000) for _ in range(2)])
    assert len(big.encode().encode()) > MAX_QUEUE_TEXT_BYTES
    asyncio.run(retry_storage.queue.enqueue(big))
    [message] = list(raw_queue.receive_messages(max_messages=32))
    pointer = decode_message(host_decode(message.content))
    assert isinstance(pointer, BlobPointer)
    assert (pointer.envelope_id, pointer.target) == (big.id, TARGET)
    assert len(message.content) <= 65_536
    spilled = asyncio.run(retry_storage.spill.read(pointer))
    assert spilled is not None
    assert Envelope.decode(spilled) == big
    asyncio.run(retry_storage.spill.delete(pointer))
    assert asyncio.run(retry_storage.spill.read(pointer)) is None
    asyncio.run(retry_storage.spill.delete(pointer))  # already gone: fine


def test_an_unreachable_queue_is_upstream_unavailable(retry_storage: RetryStorage) -> None:
    """Nothing listening: UpstreamUnavailable, naming the operation, not the content."""
    dead_port = free_port()
    connection = f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;QueueEndpoint=http://127.0.0.1:{dead_port}/devstoreaccount1;"
    queue = StorageRetryQueue(
        QueueClient.from_connection_string(connection, "q-down", retry_total=0),
        retry_storage.spill,
    )
    with pytest.raises(UpstreamUnavailable, match="enqueue failed") as caught:
        asyncio.run(queue.enqueue(envelope()))
    assert "SecurityEvent" not in str(caught.value)


def test_dead_letters_put_list_get_delete_count(retry_storage: RetryStorage) -> None:
    """A dead letter keeps the envelope and why; it is listed, read, counted and deleted."""
    store = retry_storage.dead_letters
    failed = envelope().next_attempt("IngestionFailed (400)", 400)
    name = asyncio.run(store.put(failed, reason="permanent: Logs Ingestion answered 400"))
    assert is_dead_letter_name(name)
    assert name.split("/")[1] == TARGET
    assert name.endswith(f"-{failed.id}.json")
    [summary] = asyncio.run(store.list())
    assert (summary.name, summary.kind, summary.target, summary.attempts) == (
        name,
        "dead-letter",
        TARGET,
        1,
    )
    assert summary.reason == "permanent: Logs Ingestion answered 400"
    dead = asyncio.run(store.get(name))
    assert dead is not None
    assert dead.replayable
    assert dead.envelope() == failed
    assert dead.document["last_status"] == 400
    assert dead.document["rows"] == 1
    assert datetime.fromisoformat(dead.document["first_seen"]) == failed.first_seen
    assert asyncio.run(store.count()) == 1
    assert asyncio.run(store.delete(name)) is True
    assert asyncio.run(store.delete(name)) is False
    assert asyncio.run(store.get(name)) is None
    assert asyncio.run(store.count()) == 0


def test_dead_letters_are_listed_by_target_and_counted(retry_storage: RetryStorage) -> None:
    """Counts per target, unreadable messages apart; a target filter narrows the list."""
    store = retry_storage.dead_letters
    for _ in range(2):
        asyncio.run(store.put(envelope(), reason="permanent: test"))
    other = envelope(target="sentinel:Custom-BridgeEvents")
    asyncio.run(store.put(other, reason="permanent: test"))
    asyncio.run(store.put_unreadable("{not json", reason="not a retry envelope"))
    assert asyncio.run(store.counts()) == {
        TARGET: 2,
        "sentinel:Custom-BridgeEvents": 1,
        "unreadable": 1,
    }
    assert asyncio.run(store.count()) == 4
    assert len(asyncio.run(store.list(limit=2))) == 2
    [only] = asyncio.run(store.list(target="sentinel:Custom-BridgeEvents"))
    assert only.name.endswith(f"-{other.id}.json")


def test_an_unreadable_message_is_kept_and_not_replayable(retry_storage: RetryStorage) -> None:
    """put_unreadable keeps the text and the reason; it cannot be turned into an envelope."""
    store = retry_storage.dead_letters
    name = asyncio.run(store.put_unreadable("\u00e9 not an envelope", reason="bad\nreason \u00e9"))
    [summary] = asyncio.run(store.list())
    assert (summary.kind, summary.target) == ("unreadable", "unreadable")
    assert summary.reason == "bad reason"  # metadata is printable ASCII
    dead = asyncio.run(store.get(name))
    assert dead is not None
    assert not dead.replayable
    assert dead.document["text"] == "\u00e9 not an envelope"
    assert dead.document["reason"] == "bad\nreason \u00e9"


@pytest.mark.parametrize("name", ["../secrets.json", "2026-01-01/x.json", ""])
def test_names_that_are_not_dead_letters_are_refused(
    retry_storage: RetryStorage, name: str
) -> None:
    """get and delete check the name's shape before touching storage."""
    with pytest.raises(ValueError, match="dead letter"):
        asyncio.run(retry_storage.dead_letters.get(name))
    with pytest.raises(ValueError, match="dead letter"):
        asyncio.run(retry_storage.dead_letters.delete(name))


def test_blobs_not_shaped_like_dead_letters_are_ignored(
    retry_storage: RetryStorage, azurite: Azurite
) -> None:
    """Someone else's blob in the container is neither listed nor counted."""
    store = retry_storage.dead_letters
    asyncio.run(store.put(envelope(), reason="permanent: test"))
    container = ContainerClient.from_connection_string(
        azurite.connection_string, store.container_name
    )
    with container:
        container.upload_blob("notes.txt", b"hello")
    assert asyncio.run(store.count()) == 1
    assert json.dumps([s.as_json() for s in asyncio.run(store.list())])
