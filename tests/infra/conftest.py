"""Session fixtures for the Bicep checks: checkov runs once per session (it takes seconds)."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from tests.infra.bicep import INFRA, REPO

# checkov pins pycep-parser 0.5.1, so it lives in a venv of its own (Makefile: .venv-checkov).
CHECKOV = REPO / ".venv-checkov" / "bin" / "checkov"


@pytest.fixture(scope="session")
def checkov_report() -> dict[str, Any]:
    """checkov's JSON report for infra/ (bicep framework, no download, all results)."""
    if not CHECKOV.exists():
        pytest.fail(f"{CHECKOV.relative_to(REPO)} is missing: run make deps")
    completed = subprocess.run(
        [
            str(CHECKOV),
            "--directory",
            str(INFRA),
            "--framework",
            "bicep",
            "--skip-download",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=REPO,
    )
    # Exit status 1 means failed checks; the report says which. Parse errors still exit 0.
    assert completed.returncode in (0, 1), completed.stderr[-2000:]
    report = json.loads(completed.stdout)
    # One framework gives one report object; checkov prints a list only for several.
    if isinstance(report, list):
        [report] = [r for r in report if r.get("check_type") == "bicep"]
    assert isinstance(report, dict), completed.stdout[:500]
    return report
