"""Queue triggers through the local host and a real Azurite: delete, redeliver, poison."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from tests.host.conftest import SampleHost
from tests.host.support import read_records
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture
def producer(sample_host: SampleHost) -> Iterator[QueueClient]:
    """Sends base64-encoded messages, as host.json's messageEncoding expects."""
    client = QueueClient.from_connection_string(
        sample_host.azurite.connection_string,
        sample_host.queue_name,
        message_encode_policy=TextBase64EncodePolicy(),
    )
    with client:
        yield client


@pytest.fixture
def raw_client(sample_host: SampleHost) -> Iterator[QueueClient]:
    """Sends text as is (no encoding)."""
    with QueueClient.from_connection_string(
        sample_host.azurite.connection_string, sample_host.queue_name
    ) as client:
        yield client


@pytest.fixture
def poison(sample_host: SampleHost) -> Iterator[QueueClient]:
    """Reads the poison queue, which the host creates on demand."""
    with QueueClient.from_connection_string(
        sample_host.azurite.connection_string, f"{sample_host.queue_name}-poison"
    ) as client:
        yield client


def attempts(sample_host: SampleHost, body: str) -> list[dict[str, Any]]:
    return [
        record for record in read_records(sample_host.out_dir, "queue") if record["body"] == body
    ]


def poison_texts(poison: QueueClient) -> list[str]:
    try:
        return [message.content for message in poison.peek_messages(max_messages=32)]
    except ResourceNotFoundError:  # created on the first poison message
        return []


def queued_texts(raw_client: QueueClient) -> list[str]:
    return [message.content for message in raw_client.peek_messages(max_messages=32)]


def encoded(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_a_processed_message_is_deleted(
    sample_host: SampleHost, producer: QueueClient, raw_client: QueueClient
) -> None:
    """The function gets the decoded body and dequeue_count 1; success deletes the message."""
    body = f"ok-{uuid.uuid4()}"
    sent = producer.send_message(body)
    records = wait_for(lambda: attempts(sample_host, body), what="the message to be processed")
    assert records[0]["id"] == sent.id
    assert records[0]["dequeue_count"] == 1
    wait_for(lambda: encoded(body) not in queued_texts(raw_client) or None, what="deletion")
    assert len(attempts(sample_host, body)) == 1


def test_failures_are_redelivered_then_poisoned(
    sample_host: SampleHost, producer: QueueClient, raw_client: QueueClient, poison: QueueClient
) -> None:
    """Each failure redelivers after visibilityTimeout; at maxDequeueCount (3) it goes to poison."""
    body = f"fail-{uuid.uuid4()}"
    producer.send_message(body)
    wait_for(lambda: encoded(body) in poison_texts(poison) or None, what="the poison message")
    assert [record["dequeue_count"] for record in attempts(sample_host, body)] == [1, 2, 3]
    assert encoded(body) not in queued_texts(raw_client)


def test_undecodable_messages_go_to_poison_without_invocation(
    sample_host: SampleHost, raw_client: QueueClient, poison: QueueClient
) -> None:
    """Text that is not base64 is poisoned as is, and the function never sees it."""
    text = f"not base64! {uuid.uuid4()}"
    raw_client.send_message(text)
    wait_for(lambda: text in poison_texts(poison) or None, what="the poison message")
    assert attempts(sample_host, text) == []
    assert "Message decoding has failed! Check MessageEncoding settings." in sample_host.host.logs()


def test_a_long_run_keeps_its_message_hidden(
    sample_host: SampleHost, producer: QueueClient
) -> None:
    """The hold (2 s here) is renewed while the function runs 3 s, so no second delivery starts."""
    body = f"sleep:3:{uuid.uuid4()}"
    producer.send_message(body)
    message_id = wait_for(lambda: attempts(sample_host, body), what="the first delivery")[0]["id"]

    def finished() -> bool:
        return any(
            "Executed work (Succeeded" in line and message_id in line
            for line in sample_host.host.logs().splitlines()
        )

    wait_for(finished, what="the run to finish")
    assert [record["dequeue_count"] for record in attempts(sample_host, body)] == [1]


def test_processing_resumes_after_azurite_restarts(
    sample_host: SampleHost, producer: QueueClient
) -> None:
    """Azurite restarting under the host only delays polling; messages still get processed."""
    sample_host.azurite.restart()
    body = f"ok-after-restart-{uuid.uuid4()}"
    producer.send_message(body)
    records = wait_for(lambda: attempts(sample_host, body), timeout=30, what="processing")
    assert records[0]["dequeue_count"] == 1


def test_a_killed_host_loses_no_message(sample_host: SampleHost, producer: QueueClient) -> None:
    """After SIGKILL mid-run, the held message reappears and the restarted host gets it again."""
    body = f"sleep:2:{uuid.uuid4()}"
    producer.send_message(body)
    wait_for(lambda: attempts(sample_host, body), what="the first delivery")
    sample_host.host.kill()
    sample_host.host.start()
    records = wait_for(
        lambda: [r for r in attempts(sample_host, body) if r["dequeue_count"] == 2],
        what="redelivery after the hold expired",
    )
    assert records[0]["id"] == attempts(sample_host, body)[0]["id"]
