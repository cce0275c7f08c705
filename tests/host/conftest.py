"""One local host running the sample app on the session's Azurite, shared by the host tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from local.azurite import Azurite
from local.host.process import LocalHostProcess
from tests.logscan import remember_log_file, remember_secret

HERE = Path(__file__).parent
SAMPLE_APP = "tests.host.sample_app:app"


@dataclass
class SampleHost:
    """The running sample app and where it records what it did."""

    host: LocalHostProcess
    azurite: Azurite
    out_dir: Path
    queue_name: str


@pytest.fixture(scope="session")
def sample_host(azurite: Azurite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SampleHost]:
    work_dir = tmp_path_factory.mktemp("sample-host")
    out_dir = work_dir / "out"
    out_dir.mkdir()
    queue_name = f"work-{uuid.uuid4().hex[:8]}"
    host = LocalHostProcess(
        SAMPLE_APP,
        env={
            "SAMPLE_OUT_DIR": str(out_dir),
            "SAMPLE_QUEUE": queue_name,
            "SAMPLE_TIMER_SCHEDULE": "*/1 * * * * *",
            "SampleStorage": azurite.connection_string,
            "LOCAL_HOST_MAX_POLLING_INTERVAL_SECONDS": "0.2",
            "LOCAL_HOST_QUEUE_HOLD_SECONDS": "2",
            "LOCAL_HOST_DRAIN_SECONDS": "5",
        },
        host_json=HERE / "host.json",
        keys_path=work_dir / "function-keys.json",
        log_path=work_dir / "host.log",
    )
    remember_log_file(host.log_path)
    with host:
        remember_secret(host.master_key)
        remember_secret(host.function_key)
        yield SampleHost(host, azurite, out_dir, queue_name)
