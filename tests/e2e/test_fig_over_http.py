"""Fig webhooks through the local functions host over HTTP, the way Fig sends them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from local.emulators.stack import EmulatorStack
from local.host.process import LocalHostProcess
from tests.azure_fixtures import FigCredentials
from tests.payloads import FIG_EVENTS, FIG_TESTS, raw

REPO_ROOT = Path(__file__).resolve().parents[2]


def post_fig(
    host: LocalHostProcess, route: str, body: bytes, header: str | None
) -> requests.Response:
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if header is not None:
        headers["Authorization"] = header
    return requests.post(host.url(f"/api/fig/{route}"), data=body, headers=headers, timeout=30)


@pytest.mark.parametrize("route", sorted(FIG_EVENTS))
def test_every_route_lands_through_the_host(
    route: str, host: LocalHostProcess, emulators: EmulatorStack, fig: FigCredentials
) -> None:
    """POST /api/fig/{route}: 202 with JSON, and the row is in the table."""
    response = post_fig(host, route, raw(FIG_EVENTS[route]), fig.header)
    assert response.status_code == 202
    assert response.headers["Content-Type"].startswith("application/json")
    stored = emulators.ingestion.rows("Custom-FigEvents")
    assert [r.row["EventId"] for r in stored] == response.json()["eventIds"]


def test_fig_route_is_anonymous_at_the_functions_level(
    host: LocalHostProcess, fig: FigCredentials
) -> None:
    """No function key is needed (Fig cannot send one); Fig's secret is the gate."""
    body = raw(FIG_TESTS["SecurityEvent"])
    assert post_fig(host, "SecurityEvent", body, fig.header).status_code == 200
    assert post_fig(host, "SecurityEvent", body, None).status_code == 401


def test_health_needs_a_function_key(host: LocalHostProcess, fig: FigCredentials) -> None:
    """/api/health is function-level: 401 without a key, 200 with one."""
    url = host.url("/api/health")
    assert requests.get(url, timeout=30).status_code == 401
    response = requests.get(url, headers={"x-functions-key": host.function_key}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "healthy"


def test_two_megabytes_is_413_and_nothing_is_sent(
    host: LocalHostProcess, emulators: EmulatorStack, fig: FigCredentials
) -> None:
    """A body over 1 MiB is refused with 413 before the secret is even checked."""
    body = b'{"EventType":"Login","Uri":"' + b"x" * 2_000_000 + b'"}'
    response = post_fig(host, "SecurityEvent", body, "Secret wrong")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PayloadTooLarge"
    assert emulators.ingestion.rows("Custom-FigEvents") == []


@pytest.mark.parametrize(
    ("method", "route", "status"), [("GET", "SecurityEvent", 405), ("POST", "Nope", 404)]
)
def test_wrong_method_and_route(
    host: LocalHostProcess, fig: FigCredentials, method: str, route: str, status: int
) -> None:
    """Fig routes answer 405 to other methods and 404 to unknown events, as JSON."""
    response = requests.request(method, host.url(f"/api/fig/{route}"), timeout=30)
    assert response.status_code == status
    assert set(response.json()["error"]) == {"code", "message"}


def test_make_run_starts_everything_and_lands_a_row(tmp_path: Path) -> None:
    """`make run`'s program, on free ports: it prints the URL and secret, and a row lands."""
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "local.run",
            "--state-dir",
            str(tmp_path),
            "--free-ports",
            "--smoke",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    assert "Fig webhook base URL:" in completed.stdout
    assert "Fig secret:" in completed.stdout
    assert "smoke: 202 and 1 row in FigEvents_CL" in completed.stdout
    json.loads((tmp_path / "local.settings.json").read_text())  # the settings it wrote
