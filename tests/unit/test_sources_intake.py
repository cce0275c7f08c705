"""Wallarm, Elastic alerts and signed sources through the intake, with in-memory ports."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.auth.standard_webhooks import decode_secret, sign
from shared.inbound.pipeline import Reply
from shared.inbound.request import InboundRequest
from shared.sources import elastic_alerts, ingest, wallarm
from shared.sources.base import SourceRoute
from tests.payloads import parsed, raw
from tests.unit.test_intake import World as FigWorld

NOW = datetime.now(UTC)
WALLARM_TOKEN = "w-0123456789abcdef"
ELASTIC_BASIC = "kibana:s3cret-pass"
VECTOR = parsed("standard_webhooks_test_vector.json")
WHSEC = VECTOR["secret"]
INGEST_SOURCES = {"acme": {"stream": "Custom-BridgeEvents", "secretNames": ["acme-2", "acme-1"]}}


class World:
    """The Fig intake tests' bridge of fakes, with the new sources' secrets and settings."""

    def __init__(self, **settings: str) -> None:
        fig_world = FigWorld(INGEST_SOURCES=json.dumps(INGEST_SOURCES), **settings)
        self.sink = fig_world.sink
        self.secrets = fig_world.secrets
        self.fig_world = fig_world
        self.secrets.values.clear()
        self.secrets.values.update(
            {"wallarm-token": WALLARM_TOKEN, "elastic-webhook-auth": ELASTIC_BASIC, "acme-1": WHSEC}
        )

    def post(
        self,
        source: SourceRoute,
        route: str,
        body: bytes,
        headers: dict[str, str],
        method: str = "POST",
    ) -> Reply:
        request = InboundRequest(method, headers, body, NOW)
        return self.fig_world.serve(source, route, request)

    def wallarm(self, body: bytes, **headers: str) -> Reply:
        return self.post(wallarm.ROUTE, "", body, {"x-auth-token": WALLARM_TOKEN, **headers})

    def elastic(self, body: bytes, **headers: str) -> Reply:
        auth = "Basic " + base64.b64encode(ELASTIC_BASIC.encode()).decode()
        return self.post(elastic_alerts.ROUTE, "", body, {"authorization": auth, **headers})

    def signed(
        self, body: bytes, msg_id: str = "msg_1", *, at: datetime = NOW, route: str = "acme"
    ) -> Reply:
        stamp = int(at.timestamp())
        headers = {
            "webhook-id": msg_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": sign(decode_secret(WHSEC), msg_id, stamp, body),
            "content-type": "application/json",
        }
        return self.post(ingest.route_of(route), route, body, headers)


@pytest.fixture
def world() -> World:
    return World()


def test_wallarm_batch_is_forwarded_to_its_stream(world: World) -> None:
    """Two hits in NDJSON: 202, two rows in Custom-WallarmEvents."""
    reply = world.wallarm(raw("wallarm_hit.ndjson"))
    assert (reply.status, reply.body["accepted"]) == (202, 2)
    assert [stream for stream, _ in world.sink] == ["Custom-WallarmEvents"]


def test_wallarm_takes_put_but_not_get(world: World) -> None:
    """Wallarm may be set to PUT; anything but POST and PUT is 405."""
    assert world.post(wallarm.ROUTE, "", raw("wallarm_hit.json"), {}, "GET").status == 405
    put = world.post(
        wallarm.ROUTE, "", raw("wallarm_hit.json"), {"x-auth-token": WALLARM_TOKEN}, "PUT"
    )
    assert put.status == 202


def test_wallarm_test_messages_write_one_marked_row(world: World) -> None:
    """Wallarm's "Test integration": one row with IsTest true, counted as a test."""
    reply = world.wallarm(raw("wallarm_vuln_test_message.json"))
    assert (reply.status, reply.body["test"], reply.body["accepted"]) == (202, True, 1)
    assert [row["IsTest"] for row in world.sink.rows] == [True]
    counters = world.fig_world.counters
    assert counters.totals(counters.current_window())[("source", "wallarm", "test")] == 1


def test_elastic_connector_test_is_200_without_a_row(world: World) -> None:
    """Elastic's guide tests the Webhook connector with {"alert":{"id":"Test"}}."""
    reply = world.elastic(b'{"alert":{"id":"Test"}}')
    assert (reply.status, reply.body["test"], reply.body["forwarded"]) == (200, True, False)
    assert world.sink == []


@pytest.mark.parametrize("token", [None, "wrong", ""])
def test_wallarm_wrong_token_is_401(world: World, token: str | None) -> None:
    """No, empty or wrong token: 401, nothing sent."""
    headers = {} if token is None else {"x-auth-token": token}
    assert world.post(wallarm.ROUTE, "", raw("wallarm_hit.json"), headers).status == 401
    assert world.sink == []


def test_wallarm_without_its_secret_is_404(world: World) -> None:
    """The source is off until its token is in Key Vault."""
    del world.secrets["wallarm-token"]
    reply = world.wallarm(raw("wallarm_hit.json"))
    assert (reply.status, reply.body["error"]["code"]) == (404, "UnknownEventType")


def test_wallarm_bad_ndjson_line_is_400_and_nothing_is_sent(world: World) -> None:
    """One bad line rejects the batch, naming the line."""
    body = raw("wallarm_hit.ndjson") + b"{oops\n"
    reply = world.wallarm(body)
    assert reply.status == 400
    assert "line 3" in reply.body["error"]["message"]
    assert world.sink == []


def test_wallarm_xml_is_415_after_auth(world: World) -> None:
    """A plainly wrong Content-Type is 415, but only for an authenticated sender."""
    xml = {"content-type": "application/xml"}
    assert world.wallarm(raw("wallarm_hit.json"), **xml).status == 415
    wrong = world.post(wallarm.ROUTE, "", b"<x/>", {"x-auth-token": "bad", **xml})
    assert wrong.status == 401


@pytest.mark.parametrize("content_type", [None, "application/json"])
def test_kibana_alert_with_and_without_content_type(world: World, content_type: str | None) -> None:
    """Kibana's connector declares no type of its own: both are 202."""
    headers = {} if content_type is None else {"content-type": content_type}
    reply = world.elastic(raw("kibana_security_alert_document_illustrative.json"), **headers)
    assert (reply.status, world.sink.rows[0]["RuleName"]) == (202, "Multiple failed logins")
    assert world.sink[0][0] == "Custom-ElasticAlerts"


def test_kibana_summary_with_many_alerts(world: World) -> None:
    """A summary body with two alerts gives two rows."""
    summary = parsed("kibana_webhook_rendered_body.json")
    summary["alerts"].append(parsed("kibana_security_alert_document_illustrative.json"))
    reply = world.elastic(json.dumps(summary).encode())
    assert (reply.status, reply.body["accepted"]) == (202, 2)


def test_kibana_token_forms(world: World) -> None:
    """With a token stored, ApiKey and X-Auth-Token work and Basic does not."""
    world.secrets["elastic-webhook-auth"] = "tok3n"
    body = raw("kibana_alert_document_metric.json")
    source = elastic_alerts.ROUTE
    assert world.post(source, "", body, {"authorization": "ApiKey tok3n"}).status == 202
    assert world.post(source, "", body, {"x-auth-token": "tok3n"}).status == 202
    assert world.elastic(body).status == 401


def test_kibana_without_its_secret_is_404(world: World) -> None:
    """Elastic alerts are off until their credentials are in Key Vault."""
    del world.secrets["elastic-webhook-auth"]
    assert world.elastic(raw("kibana_alert_document_metric.json")).status == 404


def test_signed_message_is_forwarded(world: World) -> None:
    """A valid Standard Webhooks message: 202, one BridgeEvents row."""
    reply = world.signed(raw("standard_webhooks_payload.json"))
    assert reply.status == 202
    assert world.sink[0][0] == "Custom-BridgeEvents"
    assert world.sink.rows[0]["WebhookId"] == "msg_1"


def test_unlisted_source_is_404_before_anything_else(world: World) -> None:
    """A source not in INGEST_SOURCES is 404, and no secret is read."""
    reply = world.signed(b"{}", route="nobody")
    assert reply.status == 404
    assert world.secrets.reads == []


def test_replay_outside_tolerance_is_401(world: World) -> None:
    """A correctly signed message from 6 minutes ago is a replay: 401."""
    assert world.signed(b"{}", at=NOW - timedelta(minutes=6)).status == 401
    assert world.sink == []


def test_listed_source_without_any_secret_is_503(world: World) -> None:
    """Configured but its secrets are missing: the operator's to fix, 503 not 404."""
    del world.secrets["acme-1"]
    assert world.signed(b"{}").status == 503


def test_failed_delivery_is_not_remembered(world: World) -> None:
    """Neither Sentinel nor the retry queue took the row: 503; the sender's retry is sent."""
    world.sink.refuse_with = 500
    world.fig_world.queue.down = True
    assert world.signed(b"{}").status == 503
    world.sink.refuse_with = None
    world.fig_world.queue.down = False
    assert world.signed(b"{}").status == 202
    assert len(world.sink.rows) == 1


def test_repeated_webhook_id_is_200_without_a_second_row(world: World) -> None:
    """The same message delivered twice: 202 then 200, one row."""
    assert world.signed(b'{"a": 1}').status == 202
    again: Any = world.signed(b'{"a": 1}')
    assert again.status == 200
    assert again.body["duplicate"] is True
    assert len(world.sink.rows) == 1


def test_batch_sources_take_bodies_over_the_single_event_limit() -> None:
    """A Wallarm batch over MAX_BODY_BYTES is taken (up to 16 MiB); Fig's limit stays."""
    world = World(MAX_BODY_BYTES="1000")
    hit = raw("wallarm_hit.ndjson").splitlines()[0]
    batch = b"\n".join([hit] * 5)
    assert len(batch) > 1000
    assert world.wallarm(batch).status == 202
    assert world.wallarm(b"[" + b" " * (16 * 1024 * 1024) + b"]").status == 413
