"""A host killed like a crashed worker is started again by the supervisor local.run uses."""

from __future__ import annotations

import logging
import os
import signal
import uuid
from pathlib import Path

import pytest

from local.azurite import Azurite
from local.host.process import LocalHostProcess
from local.host.supervisor import HostSupervisor
from tests.host.conftest import HERE, SAMPLE_APP
from tests.host.support import call
from tests.logscan import remember_log_file
from tests.waiting import wait_for


def test_a_killed_host_is_restarted_with_a_log_line(
    azurite: Azurite, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """SIGKILL from outside: reaped, one warning with the status, serving again on its port."""
    caplog.set_level(logging.INFO, logger="local.host.supervisor")
    host = LocalHostProcess(
        SAMPLE_APP,
        env={
            "SAMPLE_OUT_DIR": str(tmp_path),
            "SAMPLE_QUEUE": f"sup-{uuid.uuid4().hex[:8]}",
            "SAMPLE_TIMER_SCHEDULE": "0 0 0 1 1 *",
            "SampleStorage": azurite.connection_string,
        },
        host_json=HERE / "host.json",
        keys_path=tmp_path / "function-keys.json",
        log_path=tmp_path / "host.log",
    )
    remember_log_file(host.log_path)
    with host, HostSupervisor(host, interval=0.1) as supervisor:
        url = host.url("api/text")
        assert call("GET", url).status == 201  # what the sample route answers
        pid = host.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: supervisor.restarts == 1, timeout=60, what="the restart")
        assert host.pid != pid
        assert call("GET", url).status == 201  # what the sample route answers
    assert "exited unexpectedly (status -9); restarting it" in caplog.text
    assert "Local host restarted on" in caplog.text


def test_a_host_stopped_on_purpose_is_left_stopped(azurite: Azurite, tmp_path: Path) -> None:
    """Stopping the supervisor first, then the host, is a shutdown, not a crash."""
    host = LocalHostProcess(
        SAMPLE_APP,
        env={
            "SAMPLE_OUT_DIR": str(tmp_path),
            "SAMPLE_QUEUE": f"sup-{uuid.uuid4().hex[:8]}",
            "SAMPLE_TIMER_SCHEDULE": "0 0 0 1 1 *",
            "SampleStorage": azurite.connection_string,
        },
        host_json=HERE / "host.json",
        keys_path=tmp_path / "function-keys.json",
        log_path=tmp_path / "host.log",
    )
    with host:
        supervisor = HostSupervisor(host, interval=0.1).start()
        host.stop()  # _process cleared: not a crash
        assert host.exit_status is None
        supervisor.stop()
        assert supervisor.restarts == 0
        assert not host.running
