"""The stack as a whole: environment, admin routes, outages, and the command line."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from azure.core.exceptions import ServiceRequestError
from azure.identity import ManagedIdentityCredential
from azure.keyvault.secrets import SecretClient
from azure.monitor.ingestion import LogsIngestionClient

from local.emulators import EmulatorStack, IngestionError
from tests.emulators.test_ingestion import STREAM, fig_row

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_app_environment_points_at_the_emulators(stack: EmulatorStack) -> None:
    """The env vars name the running endpoints, and the CA bundle holds the throwaway CA."""
    env = stack.app_environment()
    assert env["IDENTITY_ENDPOINT"] == stack.identity_endpoint
    assert env["IDENTITY_HEADER"] == stack.identity_header
    assert env["AZURE_CLIENT_ID"] == stack.client_id
    assert env["KEY_VAULT_URI"].startswith("https://127.0.0.1:")
    assert env["KEY_VAULT_VERIFY_CHALLENGE_RESOURCE"] == "false"
    assert env["LOGS_INGESTION_ENDPOINT"] == stack.ingestion_endpoint
    assert env["LOGS_INGESTION_DCR_ID"] == stack.dcr_id
    bundle = Path(env["REQUESTS_CA_BUNDLE"]).read_bytes()
    assert stack.ca_path.read_bytes() in bundle
    assert bundle.count(b"BEGIN CERTIFICATE") > 1


def test_admin_routes_control_and_inspect_ingestion(stack: EmulatorStack) -> None:
    """Faults, rows, errors, stats and the role switch all work over HTTP without auth."""
    admin = f"{stack.ingestion_endpoint}/_emulator"
    verify = str(stack.ca_path)
    added = requests.post(
        f"{admin}/faults", json={"status": 503, "times": 2}, verify=verify, timeout=5
    )
    assert added.status_code == 201
    listed = requests.get(f"{admin}/faults", verify=verify, timeout=5).json()["faults"]
    assert [(f["status"], f["remaining"]) for f in listed] == [(503, 2)]
    bad = requests.post(f"{admin}/faults", json={"stat": 503}, verify=verify, timeout=5)
    assert bad.status_code == 400
    assert requests.delete(f"{admin}/faults", verify=verify, timeout=5).status_code == 204
    assert stack.ingestion.faults.describe() == []
    assert requests.post(f"{admin}/role", json={"assigned": False}, verify=verify, timeout=5).ok
    assert stack.ingestion.role_missing is True

    stack.ingestion.role_missing = False
    stack.ingestion.clear_rows()
    stats = requests.get(f"{admin}/stats", verify=verify, timeout=5).json()
    assert stats == {"streams": {}, "refused": {}}
    assert requests.get(f"{admin}/rows", verify=verify, timeout=5).json() == {"rows": []}
    assert requests.get(f"{admin}/errors", verify=verify, timeout=5).json() == {"errors": []}


def test_errors_route_lists_and_clears_the_error_log(stack: EmulatorStack) -> None:
    """GET /_emulator/errors shows each entry with its time; DELETE empties the log."""
    admin = f"{stack.ingestion_endpoint}/_emulator"
    verify = str(stack.ca_path)
    now = datetime.now(UTC)
    stack.ingestion.store.log_error(IngestionError(now, STREAM, "req-1", "NotAnArray", "No."))
    [entry] = requests.get(f"{admin}/errors", verify=verify, timeout=5).json()["errors"]
    assert (entry["time"], entry["kind"], entry["client_request_id"]) == (
        now.isoformat(),
        "NotAnArray",
        "req-1",
    )
    assert requests.delete(f"{admin}/errors", verify=verify, timeout=5).status_code == 204
    assert stack.ingestion.errors() == []
    bad = requests.post(f"{admin}/role", json={"assigned": "yes"}, verify=verify, timeout=5)
    assert bad.status_code == 400


def test_a_running_stack_cannot_start_again(stack: EmulatorStack) -> None:
    """start() on a running stack is refused."""
    with pytest.raises(RuntimeError, match="already running"):
        stack.start()


def test_rows_route_filters_and_clears(
    stack: EmulatorStack, credential: ManagedIdentityCredential, ca: str
) -> None:
    """GET /_emulator/rows lists rows (optionally per stream); DELETE forgets them."""
    with LogsIngestionClient(
        stack.ingestion_endpoint, credential, connection_verify=ca, timeout=5
    ) as logs:
        logs.upload(stack.dcr_id, STREAM, [fig_row("a")])
    admin = f"{stack.ingestion_endpoint}/_emulator/rows"
    rows = requests.get(admin, params={"stream": STREAM}, verify=ca, timeout=5).json()["rows"]
    assert [r["row"]["EventId"] for r in rows] == ["a"]
    assert (
        requests.get(admin, params={"stream": "Custom-Other"}, verify=ca, timeout=5).json()["rows"]
        == []
    )
    assert requests.delete(admin, verify=ca, timeout=5).status_code == 204
    assert stack.ingestion.rows() == []


def test_key_vault_outage_and_recovery(
    stack: EmulatorStack, credential: ManagedIdentityCredential, ca: str
) -> None:
    """A stopped vault refuses connections; started again, it serves the same secrets."""
    stack.keyvault.set_secret("fig-secret-hash", "kept")
    with SecretClient(
        stack.vault_url, credential, verify_challenge_resource=False, connection_verify=ca
    ) as vault:
        stack.stop_emulator("keyvault")
        with pytest.raises(ServiceRequestError):
            vault.get_secret("fig-secret-hash", retry_total=0)
        stack.start_emulator("keyvault")
        assert vault.get_secret("fig-secret-hash").value == "kept"


def wait_for_file(path: Path, process: subprocess.Popen[str]) -> None:
    """Wait until ``path`` exists, failing early if the process dies."""
    for _ in range(300):
        if path.exists() and path.stat().st_size:
            return
        assert process.poll() is None, "the emulator process exited early"
        time.sleep(0.05)
    pytest.fail(f"{path} never appeared")


def test_command_line_runs_until_sigterm(tmp_path: Path) -> None:
    """python -m local.emulators writes emulators.json, logs batches, and exits 0 on SIGTERM."""
    command = [sys.executable, "-m", "local.emulators", "--state-dir", str(tmp_path)]
    with subprocess.Popen(
        command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            wait_for_file(tmp_path / "emulators.json", process)
            state = json.loads((tmp_path / "emulators.json").read_text(encoding="utf-8"))
            env, verify = state["env"], state["ca_path"]
            token = requests.get(
                env["IDENTITY_ENDPOINT"],
                params={"api-version": "2019-08-01", "resource": "https://monitor.azure.com"},
                headers={"X-IDENTITY-HEADER": env["IDENTITY_HEADER"]},
                timeout=5,
            ).json()["access_token"]
            uploaded = requests.post(
                f"{env['LOGS_INGESTION_ENDPOINT']}/dataCollectionRules/"
                f"{env['LOGS_INGESTION_DCR_ID']}/streams/{STREAM}",
                params={"api-version": "2023-01-01"},
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                data=json.dumps([fig_row("cli")]),
                verify=verify,
                timeout=5,
            )
            assert uploaded.status_code == 204
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0
    assert f"accepted 1 rows for {STREAM}" in stderr
    assert token not in stderr
