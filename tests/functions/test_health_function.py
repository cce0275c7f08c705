"""GET /api/health against the emulators: what passes, and what each failure tells the operator."""

from __future__ import annotations

import json
from typing import Any

import azure.functions as func
import pytest

from local.emulators.faults import Fault
from local.emulators.stack import EmulatorStack
from tests.azure_fixtures import use_settings
from tests.functions.app_functions import call_http

pytestmark = pytest.mark.usefixtures("app_env")


def health() -> tuple[int, dict[str, Any]]:
    request = func.HttpRequest(
        method="GET", url="http://localhost:7071/api/health", headers={}, params={}, body=b""
    )
    response = call_http("health", request)
    return response.status_code, json.loads(response.get_body())


def check(report: dict[str, Any], prefix: str) -> dict[str, Any]:
    return next(c for c in report["checks"] if c["name"].startswith(prefix))


def test_all_checks_pass_without_writing_a_row(emulators: EmulatorStack) -> None:
    """Settings, tokens, vault secrets, streams, Sentinel: 200, and no row written.

    Which destinations are checked depends on the secrets the vault holds (SIGNL4 is off
    without its team secret), so those checks are only required to pass.
    """
    status, report = health()
    assert status == 200, report
    names = {c["name"] for c in report["checks"]}
    destinations = {name for name in names if name.startswith("destination")}
    # sentinel:write while anything writes back (a tag, SIGNL4's callback token or Kibana's
    # credential in the vault), sentinel:read in reader-only mode: which depends on the
    # secrets earlier tests left in the vault.
    permission = names & {"sentinel:write", "sentinel:read"}
    assert len(permission) == 1, names
    assert names - destinations - permission == {
        "settings",
        "token:https://monitor.azure.com",
        "token:https://vault.azure.net",
        "keyvault:fig-secret-hash",
        "keyvault:wallarm-token",
        "keyvault:elastic-webhook-auth",
        "ingestion:Custom-BridgeEvents",
        "ingestion:Custom-BridgeHealth",
        "ingestion:Custom-ElasticAlerts",
        "ingestion:Custom-FigEvents",
        "ingestion:Custom-WallarmEvents",
        "token:https://management.azure.com",
        "sentinel:incidents",
    }
    assert destinations
    assert emulators.ingestion.rows() == []
    assert emulators.ingestion.stats()["streams"]["Custom-FigEvents"]["requests"] == 1
    assert check(report, "keyvault:wallarm-token")["detail"].startswith("not set")


def test_health_shows_the_retry_queue_and_dead_letters() -> None:
    """The delivery summary: queue depth, oldest queued age and dead-letter count."""
    _, report = health()
    assert report["delivery"] == {
        "retryQueue": {"depth": 0, "oldestQueuedAgeSeconds": None},
        "deadLetters": {"count": 0},
    }


def test_missing_role_names_the_role_and_the_delay(emulators: EmulatorStack) -> None:
    """A 403 from ingestion: 503 naming Monitoring Metrics Publisher and the 30 minutes."""
    emulators.ingestion.role_missing = True
    status, report = health()
    failing = check(report, "ingestion:")
    assert status == 503
    assert "Monitoring Metrics Publisher" in failing["action"]
    assert "30 minutes" in failing["action"]


def test_missing_secret_says_which_secret_to_fill(emulators: EmulatorStack) -> None:
    """No Fig hash in the vault: the check names the secret to create."""
    emulators.keyvault.set_enabled("fig-secret-hash", False)
    status, report = health()
    assert status == 503
    assert "fig-secret-hash" in check(report, "keyvault:")["action"]


def test_unreachable_identity_fails_the_token_checks(emulators: EmulatorStack) -> None:
    """Without tokens every check that needs one fails, and the token checks say why."""
    emulators.identity.faults.add(Fault(status=500))
    status, report = health()
    assert status == 503
    assert not check(report, "token:https://monitor").get("ok")


def test_incomplete_settings_are_listed_at_once() -> None:
    """Two settings missing: one failed check naming both."""
    use_settings(KEY_VAULT_URI=None, LOGS_INGESTION_DCR_ID=None)
    status, report = health()
    assert status == 503
    detail = check(report, "settings")["detail"]
    assert "KEY_VAULT_URI" in detail
    assert "LOGS_INGESTION_DCR_ID" in detail


def test_unknown_dcr_is_explained() -> None:
    """A wrong DCR id: 404 from ingestion, and the action points at LOGS_INGESTION_DCR_ID."""
    use_settings(LOGS_INGESTION_DCR_ID="dcr-00000000000000000000000000000bad")
    status, report = health()
    assert status == 503
    assert "LOGS_INGESTION_DCR_ID" in check(report, "ingestion:")["action"]
