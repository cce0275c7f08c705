"""Indexing the app is cheap and safe: no SDK client modules, no settings, no I/O at import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFERRED = (
    "azure.storage",
    "azure.identity",
    "azure.monitor",
    "azure.keyvault",
    "azure.data",
    "azure.mgmt",
)
PROBE = f"""
import json, sys
import function_app
functions = [f.get_function_name() for f in function_app.app.get_functions()]
loaded = sorted(m for m in sys.modules if m.startswith({DEFERRED!r}))
print(json.dumps({{"functions": functions, "loaded": loaded}}))
"""


def test_indexing_loads_no_sdk_client_and_needs_no_setting() -> None:
    """The host imports the app with no settings at all; the SDKs wait for first use."""
    completed = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=REPO_ROOT,
        env={"PATH": "/usr/bin:/bin"},  # no app settings, no storage, nothing
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(completed.stdout)
    assert "fig_webhook" in report["functions"]
    assert report["loaded"] == []
