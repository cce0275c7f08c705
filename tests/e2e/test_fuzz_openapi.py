"""Schemathesis against the served OpenAPI document, through the local host.

Whatever it sends (valid and invalid bodies, headers, methods), no endpoint may answer
5xx, and nothing may reach Sentinel. ``schemathesis_hooks.py`` adds the hostile JSON shapes
of ``tests.hostile`` to the generated bodies: it holds no credentials, so a forwarded row would be
a way past authentication.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from local.emulators.stack import EmulatorStack
from local.host.process import LocalHostProcess
from tests.azure_fixtures import FigCredentials
from tests.logscan import remember_secret

REPO_ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def schemathesis(host: LocalHostProcess, cwd: Path, *headers: str) -> str:
    """Run schemathesis (not_a_server_error, valid and invalid inputs); return its report."""
    cli = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert cli is not None, "schemathesis is in requirements-dev.txt"
    extra = [arg for header in headers for arg in ("-H", header)]
    completed = subprocess.run(
        [
            cli,
            "run",
            str(REPO_ROOT / "shared" / "openapi.json"),
            "--url",
            host.base_url,
            "--checks",
            "not_a_server_error",
            "--mode",
            "all",
            "--max-examples",
            "30",
            "--seed",
            "20261123",
            "--request-timeout",
            "30",
            "--no-color",
            *extra,
        ],
        cwd=cwd,
        env={
            **os.environ,
            "SCHEMATHESIS_HOOKS": str(Path(__file__).with_name("schemathesis_hooks.py")),
            "PYTHONPATH": str(REPO_ROOT),
        },
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-4000:]
    assert " passed" in completed.stdout
    return completed.stdout


def test_no_input_gives_a_5xx_or_a_forwarded_row(
    host: LocalHostProcess,
    emulators: EmulatorStack,
    fig: FigCredentials,
    wallarm_token: str,
    tmp_path: Path,
) -> None:
    """Without credentials: never a 5xx, and the ingestion emulator gets no row."""
    emulators.ingestion.reset()
    schemathesis(host, tmp_path)
    # Only the host's own health timer may write (BridgeHealth_CL); no webhook row may land.
    assert [r for r in emulators.ingestion.rows() if r.stream != "Custom-BridgeHealth"] == []


def test_authenticated_fuzzing_never_gives_a_5xx(
    host: LocalHostProcess,
    emulators: EmulatorStack,
    fig: FigCredentials,
    wallarm_token: str,
    tmp_path: Path,
) -> None:
    """With Fig's secret and Wallarm's token, the parsers behind auth never answer 5xx."""
    remember_secret(wallarm_token)
    schemathesis(host, tmp_path, f"Authorization: {fig.header}", f"X-Auth-Token: {wallarm_token}")
