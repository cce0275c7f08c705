"""The identity emulator's tokens satisfy Azurite's ``--oauth basic`` checks (ref. section 12)."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.core.exceptions import HttpResponseError
from azure.identity import ManagedIdentityCredential
from azure.storage.queue import QueueClient

from local.emulators import EmulatorStack
from tests.emulators.conftest import StaticTokenCredential

AZURITE_QUEUE = Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "azurite-queue"


def free_port() -> int:
    """A port that was free a moment ago (Azurite cannot be handed a bound socket)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def azurite_queue_url(stack: EmulatorStack, tmp_path: Path) -> Iterator[str]:
    """Azurite's queue service over HTTPS with --oauth basic, using the stack's certificate."""
    if not AZURITE_QUEUE.exists():
        pytest.skip("Azurite is not installed (run `make deps`)")
    port = free_port()
    tls_dir = stack.ca_path.parent
    command = [
        str(AZURITE_QUEUE),
        "--silent",
        "--inMemoryPersistence",
        "--skipApiVersionCheck",
        "--disableTelemetry",
        "--queueHost",
        "127.0.0.1",
        "--queuePort",
        str(port),
        "--oauth",
        "basic",
        "--cert",
        str(tls_dir / "server.pem"),
        "--key",
        str(tls_dir / "server-key.pem"),
    ]
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as azurite:
        try:
            for _ in range(400):
                assert azurite.poll() is None, "Azurite exited early"
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.05)
            yield f"https://127.0.0.1:{port}/devstoreaccount1"
        finally:
            azurite.terminate()
            azurite.wait(timeout=30)


def test_managed_identity_token_is_accepted_by_azurite(
    stack: EmulatorStack, credential: ManagedIdentityCredential, azurite_queue_url: str, ca: str
) -> None:
    """A queue round trip authenticated with an emulator token for https://storage.azure.com."""
    with QueueClient(
        azurite_queue_url, "bridge-retry", credential=credential, connection_verify=ca
    ) as queue:
        queue.create_queue()
        queue.send_message("hello")
        assert [m.content for m in queue.receive_messages()] == ["hello"]
    assert stack.identity.tokens_issued("https://storage.azure.com") == 1


def test_azurite_refuses_a_token_for_another_audience(
    stack: EmulatorStack, azurite_queue_url: str, ca: str
) -> None:
    """A Key Vault token is refused by Azurite, so the check above can fail."""
    token, expires_on = stack.identity.mint("https://vault.azure.net")
    with (
        QueueClient(
            azurite_queue_url,
            "bridge-retry",
            credential=StaticTokenCredential(token, expires_on),
            connection_verify=ca,
            retry_total=0,
        ) as queue,
        pytest.raises(HttpResponseError) as raised,
    ):
        queue.create_queue()
    assert raised.value.status_code in (401, 403)
