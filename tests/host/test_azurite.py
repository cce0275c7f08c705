"""The Azurite runner: endpoints, persistence across restarts, and a clear missing-install error."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from azure.storage.queue import QueueClient

from local.azurite import ACCOUNT_NAME, Azurite, AzuriteError


def test_a_missing_install_says_to_run_make_deps(tmp_path: Path) -> None:
    """Without node_modules the error names the fix."""
    azurite = Azurite(tmp_path, executable=tmp_path / "no" / "azurite")
    with pytest.raises(AzuriteError, match="make deps"):
        azurite.start()


@pytest.mark.e2e
def test_connection_string_names_every_endpoint(azurite: Azurite) -> None:
    """The connection string carries the well-known account and all three loopback endpoints."""
    parts = dict(part.split("=", 1) for part in azurite.connection_string.rstrip(";").split(";"))
    assert parts["AccountName"] == ACCOUNT_NAME
    assert parts["QueueEndpoint"] == f"http://127.0.0.1:{azurite.queue_port}/{ACCOUNT_NAME}"
    assert parts["BlobEndpoint"] == azurite.blob_endpoint
    assert parts["TableEndpoint"] == azurite.table_endpoint
    assert len({azurite.blob_port, azurite.queue_port, azurite.table_port}) == 3


@pytest.mark.e2e
def test_messages_survive_a_restart_on_the_same_ports(azurite: Azurite) -> None:
    """restart() keeps ports and data, so a client made before it still finds its message."""
    queue_port = azurite.queue_port
    body = f"persisted-{uuid.uuid4()}"
    with QueueClient.from_connection_string(azurite.connection_string, "persistence") as client:
        client.create_queue()
        client.send_message(body)
        azurite.restart()
        assert azurite.queue_port == queue_port
        assert body in [message.content for message in client.peek_messages(max_messages=32)]
