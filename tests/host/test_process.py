"""LocalHostProcess: settings, host.json, keys, clean stop, and clear startup failures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from local.host.process import HostStartError, LocalHostProcess
from tests.host.support import call

pytestmark = pytest.mark.e2e


def test_settings_file_env_precedence_and_route_prefix(tmp_path: Path) -> None:
    """Settings become env vars unless already set; an empty routePrefix drops /api."""
    settings = tmp_path / "local.settings.json"
    settings.write_text(json.dumps({"Values": {"FROM_FILE": "file", "BOTH": "file"}}))
    host_json = tmp_path / "host.json"
    host_json.write_text(
        json.dumps({"version": "2.0", "extensions": {"http": {"routePrefix": ""}}})
    )
    host = LocalHostProcess(
        "tests.host.settings_app:app",
        env={"BOTH": "env"},
        settings_path=settings,
        host_json=host_json,
        log_path=tmp_path / "host.log",
    )
    with host:
        assert call("GET", host.url("/env/FROM_FILE")).body == b"file"
        assert call("GET", host.url("/env/BOTH")).body == b"env"
        assert call("GET", host.url("/api/env/BOTH")).status == 404
        assert host.stop() == 0
    assert "Host stopped" in (tmp_path / "host.log").read_text()


def test_an_app_that_cannot_load_fails_fast(tmp_path: Path) -> None:
    """An import error ends the process, and start() says why instead of waiting."""
    host = LocalHostProcess("tests.host.no_such_app:app", log_path=tmp_path / "host.log")
    with pytest.raises(HostStartError, match="cannot import"), host:
        pytest.fail("the host should not have started")
