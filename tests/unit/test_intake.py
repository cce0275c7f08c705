"""The intake service with in-memory ports: every answer a Fig sender can get."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime

import pytest

from shared.auth.fig import hash_fig_secret
from shared.bootstrap.sources import SourceCatalog, SourceMemory
from shared.config.settings import Settings
from shared.inbound.intake import IntakeDeps, SourceEndpoint
from shared.inbound.pipeline import Reply, serve
from shared.inbound.request import InboundRequest
from shared.sources import fig
from shared.sources.base import SourceRoute
from shared.sources.replay_guard import MemoryReplayLedger
from shared.telemetry.counting import Telemetry
from shared.telemetry.metrics import Counters
from tests.fakes import FakeDeadLetters, FakeQueue, FakeSecrets, FakeSink
from tests.payloads import FIG_EVENTS, raw

SECRET = "6f1c5e0a-1d2b-4c3d-8e9f-a0b1c2d3e4f5"
HASH = hash_fig_secret(SECRET, rounds=4)
BASE_SETTINGS = {
    "KEY_VAULT_URI": "https://kv.vault.azure.net/",
    "LOGS_INGESTION_ENDPOINT": "https://dce.ingest.monitor.azure.com",
    "LOGS_INGESTION_DCR_ID": "dcr-1",
    "AzureWebJobsStorage": "UseDevelopmentStorage=true",
}


class World:
    """The real sources and pipeline wired to fakes, and a way to post to them."""

    def __init__(self, **settings: str) -> None:
        self.secrets = FakeSecrets({"fig-secret-hash": HASH})
        self.sink = FakeSink()
        self.queue = FakeQueue()
        self.dead_letters = FakeDeadLetters()
        self.counters = Counters("test")
        self.settings = Settings.from_env({**BASE_SETTINGS, **settings})
        self.telemetry = Telemetry(self.counters, lambda: None)
        self.deps = IntakeDeps(
            secrets=self.secrets,
            sink=self.sink,
            retry_queue=self.queue,
            dead_letters=self.dead_letters,
            telemetry=self.telemetry,
            rng=random.Random(7),
            max_body_bytes=self.settings.max_body_bytes,
            retry_base_seconds=self.settings.retry_base_seconds,
            retry_max_seconds=self.settings.retry_max_seconds,
        )
        self.ledger = MemoryReplayLedger()
        self.sources = SourceCatalog(self.settings, SourceMemory.fresh(), lambda: self.ledger)

    def serve(self, route_info: SourceRoute, route: str, request: InboundRequest) -> Reply:
        """The request through the pipeline, to the source at ``route_info``/``route``."""
        endpoint = SourceEndpoint(
            route_info,
            route,
            lambda: self.sources.for_route(route_info, route),
            lambda: self.deps,
        )
        return asyncio.run(serve(endpoint, request, lambda: self.telemetry))

    def post(
        self,
        route: str,
        body: bytes,
        *,
        secret: str | None = SECRET,
        method: str = "POST",
        headers: dict[str, str] | None = None,
    ) -> Reply:
        all_headers = {"content-type": "application/json; charset=utf-8", **(headers or {})}
        if secret is not None:
            all_headers["authorization"] = f"Secret {secret}"
        request = InboundRequest(method, all_headers, body, datetime.now(UTC))
        return self.serve(fig.ROUTE, route, request)


@pytest.fixture
def world() -> World:
    return World()


def test_event_is_forwarded_and_acknowledged(world: World) -> None:
    """A good event is sent to Custom-FigEvents and answered 202 with its EventId."""
    reply = world.post("SecurityEvent", raw(FIG_EVENTS["SecurityEvent"]))
    assert reply.status == 202
    assert [stream for stream, _ in world.sink] == ["Custom-FigEvents"]
    assert reply.body["eventIds"] == [world.sink.rows[0]["EventId"]]


@pytest.mark.parametrize("secret", [None, "wrong", ""])
def test_wrong_auth_is_401_and_nothing_is_sent(world: World, secret: str | None) -> None:
    """No, empty or wrong secret: 401 with a JSON error, no row."""
    reply = world.post("SecurityEvent", raw(FIG_EVENTS["SecurityEvent"]), secret=secret)
    assert reply.status == 401
    assert reply.body["error"]["code"] == "Unauthorized"
    assert world.sink == []


def test_auth_is_checked_before_the_body(world: World) -> None:
    """An unauthenticated sender learns nothing about body validation."""
    assert world.post("SecurityEvent", b"not json", secret="wrong").status == 401


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"Success": "no"}'])
def test_malformed_bodies_are_400_with_a_json_error(world: World, body: bytes) -> None:
    """Not JSON, not an object, or a field of the wrong type: 400 {"error": {...}}."""
    reply = world.post("SecurityEvent", body)
    assert reply.status == 400
    assert set(reply.body["error"]) == {"code", "message"}
    assert world.sink == []


def test_unknown_route_is_404_and_wrong_method_405(world: World) -> None:
    """Routes Fig does not send are 404; anything but POST is 405 with Allow."""
    assert world.post("Nope", b"{}").status == 404
    reply = world.post("SecurityEvent", b"{}", method="GET")
    assert (reply.status, reply.headers["Allow"]) == (405, "POST")


def test_oversize_is_413_from_the_declared_length_or_the_body() -> None:
    """Over MAX_BODY_BYTES is refused before the secret or body is looked at."""
    small = World(MAX_BODY_BYTES="100")
    declared = small.post("SecurityEvent", b"{}", headers={"content-length": "101"}, secret=None)
    actual = small.post("SecurityEvent", b"{" + b" " * 100 + b"}", secret=None)
    assert (declared.status, actual.status) == (413, 413)
    assert small.secrets.reads == []


def test_test_events_are_answered_without_forwarding(world: World) -> None:
    """IsTest: 200 at once, nothing sent."""
    reply = world.post("SecurityEvent", raw("fig_security_event_test.json"))
    assert (reply.status, reply.body["forwarded"], reply.body["test"]) == (200, False, True)
    assert world.sink == []


def test_test_events_still_need_the_secret(world: World) -> None:
    """Fig's Test button should tell an operator when the secret is wrong."""
    assert (
        world.post("SecurityEvent", raw("fig_security_event_test.json"), secret="x").status == 401
    )


def test_disabled_event_types_are_answered_200_and_not_forwarded() -> None:
    """FIG_EVENT_TYPES leaves SecurityEvent out: 200 forwarded false, nothing sent."""
    filtered = World(FIG_EVENT_TYPES="HealthStatusChanged")
    reply = filtered.post("SecurityEvent", raw(FIG_EVENTS["SecurityEvent"]))
    assert (reply.status, reply.body["forwarded"]) == (200, False)
    assert filtered.sink == []
    assert (
        filtered.post("ClientHealthChanged", raw(FIG_EVENTS["ClientHealthChanged"])).status == 202
    )


def test_secret_store_down_without_a_cached_hash_is_503_never_401(world: World) -> None:
    """We cannot tell a right secret from a wrong one: ask Fig to retry, do not refuse it."""
    world.secrets.down = True
    reply = world.post("SecurityEvent", raw(FIG_EVENTS["SecurityEvent"]))
    assert reply.status == 503
    assert int(reply.headers["Retry-After"]) > 0


def test_missing_hash_is_503_without_naming_the_secret(world: World) -> None:
    """No hash in the vault yet: 503, and the sender is not told secret names."""
    world.secrets.values.clear()
    reply = world.post("SecurityEvent", raw(FIG_EVENTS["SecurityEvent"]))
    assert reply.status == 503
    assert "fig-secret-hash" not in json.dumps(reply.body)


def test_throttled_rows_are_queued_and_acknowledged(world: World) -> None:
    """Sentinel throttles: the row goes to the retry queue, after its Retry-After; 202 queued."""
    world.sink.refuse_with = 429
    reply = world.post("SecurityEvent", raw(FIG_EVENTS["SecurityEvent"]))
    assert (reply.status, reply.body["queued"], reply.body["accepted"]) == (202, True, 0)
    ((envelope, delay),) = world.queue
    assert envelope.target == "sentinel:Custom-FigEvents"
    assert envelope.source == "fig"
    assert envelope.rows is not None
    assert [row["EventId"] for row in envelope.rows] == reply.body["eventIds"]
    assert (envelope.attempt, envelope.last_status) == (0, 429)
    assert delay >= 7


def test_rows_that_can_never_be_accepted_are_dead_lettered(world: World) -> None:
    """A schema refusal (400) is not retried: the row is dead-lettered, visible, and 202."""
    world.sink.refuse_with = 400
    reply = world.post("SecurityEvent", raw(FIG_EVENTS["SecurityEvent"]))
    assert (reply.status, reply.body["deadLettered"], reply.body["queued"]) == (202, 1, False)
    ((dead, reason),) = world.dead_letters
    assert dead.rows is not None
    assert "400" in reason
    assert world.queue == []


def test_neither_sentinel_nor_the_queue_is_503_with_retry_after(world: World) -> None:
    """Only when storage refuses too does the sender get 503, to retry."""
    world.sink.refuse_with = 503
    world.queue.down = True
    reply = world.post("SecurityEvent", raw(FIG_EVENTS["SecurityEvent"]))
    assert reply.status == 503
    assert int(reply.headers["Retry-After"]) > 0


def test_rotated_hash_is_picked_up_without_a_restart(world: World) -> None:
    """After the hash in the vault changes, the new secret works and the old one fails."""
    assert world.post("SecurityEvent", raw(FIG_EVENTS["SecurityEvent"])).status == 202
    new_secret = "99999999-8888-7777-6666-555555555555"
    world.secrets["fig-secret-hash"] = hash_fig_secret(new_secret, rounds=4)
    body = raw(FIG_EVENTS["MinRunSessions"])
    assert world.post("MinRunSessions", body, secret=new_secret).status == 202
    assert world.post("MinRunSessions", body).status == 401


def test_config_problems_are_503_without_details() -> None:
    """A broken configuration is the operator's to fix: 503, names kept out of the reply."""

    def no_deps() -> IntakeDeps:
        Settings.from_env({})
        raise AssertionError("unreachable")

    def no_source() -> fig.FigSource:
        raise AssertionError("unreachable")

    request = InboundRequest("POST", {}, b"{}", datetime.now(UTC))
    endpoint = SourceEndpoint(fig.ROUTE, "SecurityEvent", no_source, no_deps)
    reply = asyncio.run(serve(endpoint, request, lambda: Telemetry(Counters("t"), lambda: None)))
    assert reply.status == 503
    assert "KEY_VAULT_URI" not in json.dumps(reply.body)
