"""Incident forwarding on the emulators: settings, the wiring, seeded incidents, one poll."""

from __future__ import annotations

import asyncio
import http.server
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError

from local.emulators.stack import EmulatorStack
from local.tls import server_ssl_context
from shared.adapters.retry_storage import RetryStorage
from shared.bootstrap import root
from shared.bootstrap.incidents import IncidentWiring
from shared.config.incidents import WebhookDestination
from shared.delivery.envelope import Envelope
from shared.incidents.fleet import IncidentFleet
from shared.incidents.forward import Forwarder
from shared.incidents.poller import PollResult, poll
from shared.retrying.deps import RetryDeps, RetryOutcome
from shared.retrying.worker import deliver_message
from tests.azure_fixtures import use_settings
from tests.logscan import remember_secret

TEAM_SECRET_NAME = "signl4-team-secret"


@pytest.fixture
def incident_env(app_env: dict[str, str], emulators: EmulatorStack) -> dict[str, str]:
    """app_env plus a clean Sentinel workspace and SIGNL4 team whose secret is in the vault."""
    emulators.sentinel.reset()
    emulators.signl4.reset()
    secret = remember_secret(emulators.signl4.team_secret)
    emulators.keyvault.set_secret(TEAM_SECRET_NAME, secret)
    return use_settings(RETRY_BASE_SECONDS="0.5")


@pytest.fixture
def wiring(incident_env: dict[str, str]) -> IncidentWiring:
    """The incident services' real adapters on the emulators and Azurite."""
    return root().incidents()


@pytest.fixture
def forwarder(wiring: IncidentWiring) -> Forwarder:
    """The Forwarder of ``wiring``, with seeded jitter."""
    return replace(wiring.forwarder, rng=random.Random(3))


@pytest.fixture
def retry_storage(incident_env: dict[str, str]) -> RetryStorage:
    """The bridge's retry storage (queue, dead letters) on Azurite."""
    storage = root().clients().storage
    assert storage is not None
    return storage


def run_poll(forwarder: Forwarder, **kwargs: Any) -> PollResult:
    """One poll, now."""
    return asyncio.run(poll(forwarder, now=datetime.now(UTC), **kwargs))


def seed(emulators: EmulatorStack, **properties: Any) -> dict[str, Any]:
    """An incident as an analytics rule would create it (New, Medium by default)."""
    return emulators.sentinel.seed_incident(**properties)


def received(emulators: EmulatorStack) -> list[dict[str, Any]]:
    """The bodies SIGNL4 accepted, oldest first."""
    return [r.body for r in emulators.signl4.received()]


def labels(emulators: EmulatorStack, name: str) -> list[str]:
    """The label names of one incident as stored."""
    stored = next(i for i in emulators.sentinel.incidents() if i["name"] == name)
    return [label["labelName"] for label in stored["properties"]["labels"]]


def take_queued(storage: RetryStorage, count: int, *, timeout: float = 10.0) -> list[str]:
    """Receive ``count`` retry messages as the host would (waiting out their backoff)."""
    from tests.retry_support import host_decode

    client = storage.queue._queue
    texts: list[str] = []
    deadline = time.monotonic() + timeout
    while len(texts) < count and time.monotonic() < deadline:
        try:
            messages = list(client.receive_messages(max_messages=32, visibility_timeout=60))
        except ResourceNotFoundError:  # nothing was ever queued
            messages = []
        for message in messages:
            texts.append(host_decode(message.content))
            client.delete_message(message)
        if len(texts) < count:
            time.sleep(0.1)
    return texts


def envelopes(texts: list[str]) -> list[Envelope]:
    """The envelopes of received retry messages."""
    return [Envelope.decode(text) for text in texts]


def retry(storage: RetryStorage, forwarder: Forwarder | IncidentFleet, text: str) -> RetryOutcome:
    """The retry worker's handling of one message, with incident deliverers registered
    (one source's forwarder, or every source's: the message's payload picks one)."""
    from shared.incidents.forward import retry_deliverer
    from shared.retrying.deps import default_targets

    deliver = retry_deliverer(lambda: forwarder)
    deps = RetryDeps(
        sink=root().clients().sink,
        queue=storage.queue,
        dead_letters=storage.dead_letters,
        spill=storage.spill,
        targets={**default_targets(), "signl4": deliver, "webhook": deliver},
    )
    return asyncio.run(deliver_message(text, deps, now=datetime.now(UTC), rng=random.Random(1)))


class WebhookReceiver:
    """An HTTPS endpoint on 127.0.0.1 (the emulators' certificate) that keeps every POST.

    Answers with the statuses in ``answers`` first (one each), then 200.
    """

    def __init__(self, emulators: EmulatorStack) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.requests.append((self.path, headers, body))
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        certs = emulators._certs
        assert certs is not None
        context = server_ssl_context(certs)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        """The URL of ``path`` on this receiver."""
        return f"https://127.0.0.1:{self._server.server_address[1]}/{path}"

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver(emulators: EmulatorStack) -> Iterator[WebhookReceiver]:
    """A webhook receiver for the test."""
    running = WebhookReceiver(emulators)
    yield running
    running.close()


def with_webhook(
    forwarder: Forwarder, emulators: EmulatorStack, receiver: WebhookReceiver, *secrets: str
) -> Forwarder:
    """``forwarder`` with one signed-webhook destination ``hook-a`` at ``receiver``,
    its secret(s) in the vault (space-separated, newest first); SIGNL4 stays on."""
    emulators.keyvault.set_secret("hook-a-secret", " ".join(remember_secret(s) for s in secrets))
    destination = WebhookDestination("hook-a", receiver.url("hooks/a"), "hook-a-secret")
    return replace(forwarder, settings=replace(forwarder.settings, webhooks=(destination,)))
