"""One feature's bad setting turns off that feature alone: every other source still answers."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import azure.functions as func
import pytest

from local.emulators.stack import EmulatorStack
from shared.auth.standard_webhooks import decode_secret, sign
from tests.azure_fixtures import FigCredentials, use_settings
from tests.functions.app_functions import call_http, fig_request
from tests.logscan import remember_secret
from tests.payloads import FIG_EVENTS, parsed, raw

pytestmark = pytest.mark.usefixtures("app_env")

WALLARM_TOKEN = "wallarm-token-isolation-0123456789"
KIBANA = "kibana:isolation-pass-0123456789"
WHSEC = parsed("standard_webhooks_test_vector.json")["secret"]
INGEST = {
    "good": {"stream": "Custom-BridgeEvents", "secretNames": ["good-whsec"]},
    "broken": {"stream": "Custom-NoSuchTable", "secretNames": ["broken-whsec"]},
}


def request(route: str, body: bytes, headers: dict[str, str], **route_params: str) -> Any:
    return func.HttpRequest(
        method="POST",
        url=f"http://localhost:7071/api/{route}",
        headers={"Content-Type": "application/json", **headers},
        params={},
        route_params=route_params,
        body=body,
    )


def signed(route: str, body: bytes) -> func.HttpResponse:
    stamp = int(time.time())
    headers = {
        "webhook-id": f"msg-{route}",
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign(decode_secret(WHSEC), f"msg-{route}", stamp, body),
    }
    return call_http("ingest_webhook", request(f"ingest/{route}", body, headers, source=route))


def health() -> dict[str, Any]:
    req = func.HttpRequest(
        method="GET", url="http://localhost:7071/api/health", headers={}, params={}, body=b""
    )
    document: dict[str, Any] = json.loads(call_http("health", req).get_body())
    return document


@pytest.fixture
def sources_on(emulators: EmulatorStack) -> None:
    """Wallarm, Elastic and both ingest sources have their secrets in the vault."""
    emulators.keyvault.set_secret("wallarm-token", remember_secret(WALLARM_TOKEN))
    emulators.keyvault.set_secret("elastic-webhook-auth", remember_secret(KIBANA))
    emulators.keyvault.set_secret("good-whsec", remember_secret(WHSEC))
    emulators.keyvault.set_secret("broken-whsec", remember_secret(WHSEC))


@pytest.mark.usefixtures("sources_on")
def test_a_bad_ingest_entry_leaves_every_other_source_answering(
    emulators: EmulatorStack, fig_credentials: FigCredentials
) -> None:
    """INGEST_SOURCES names a stream with no schema: that route is 503 FeatureNotConfigured,
    Fig, Wallarm, Elastic and the good ingest route accept, and health names the broken one."""
    use_settings(INGEST_SOURCES=json.dumps(INGEST))
    fig = call_http(
        "fig_webhook",
        fig_request(
            "SecurityEvent", raw(FIG_EVENTS["SecurityEvent"]), authorization=fig_credentials.header
        ),
    )
    wallarm = call_http(
        "wallarm_webhook",
        request("wallarm", raw("wallarm_hit.json"), {"X-Auth-Token": WALLARM_TOKEN}),
    )
    basic = "Basic " + base64.b64encode(KIBANA.encode()).decode()
    elastic = call_http(
        "elastic_alerts_webhook",
        request(
            "elastic/alerts",
            raw("kibana_alert_document_metric.json"),
            {"Authorization": basic},
        ),
    )
    good, broken = signed("good", b'{"type":"a.b","data":{}}'), signed("broken", b"{}")
    assert [r.status_code for r in (fig, wallarm, elastic, good)] == [202, 202, 202, 202]
    assert broken.status_code == 503
    assert json.loads(broken.get_body())["error"]["code"] == "FeatureNotConfigured"
    assert "NoSuchTable" not in broken.get_body().decode()  # the operator's detail, not theirs
    checks = {check["name"]: check for check in health()["checks"]}
    assert checks["feature:ingest-broken"]["ok"] is False
    assert "NoSuchTable_CL.json" in checks["feature:ingest-broken"]["detail"]
    assert checks["settings"]["ok"] is True


@pytest.mark.usefixtures("sources_on")
def test_a_bad_wallarm_header_turns_off_wallarm_alone(
    emulators: EmulatorStack, fig_credentials: FigCredentials
) -> None:
    """WALLARM_TOKEN_HEADER that is no header name: Wallarm 503, Fig 202."""
    use_settings(WALLARM_TOKEN_HEADER="X Auth Token")
    wallarm = call_http(
        "wallarm_webhook",
        request("wallarm", raw("wallarm_hit.json"), {"X-Auth-Token": WALLARM_TOKEN}),
    )
    fig = call_http(
        "fig_webhook",
        fig_request(
            "SecurityEvent", raw(FIG_EVENTS["SecurityEvent"]), authorization=fig_credentials.header
        ),
    )
    assert (wallarm.status_code, fig.status_code) == (503, 202)
    assert "feature:wallarm" in {check["name"] for check in health()["checks"]}
