"""The real function_app served by the local functions host, over HTTP, on the emulators."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.azurite import Azurite
from local.emulators.stack import EmulatorStack
from local.host.process import LocalHostProcess
from tests.azure_fixtures import FigCredentials, new_fig_credentials, storage_env
from tests.logscan import remember_log_file, remember_secret


@pytest.fixture(scope="session")
def host_fig_credentials(emulators: EmulatorStack) -> FigCredentials:
    credentials = new_fig_credentials()
    emulators.keyvault.set_secret("fig-secret-hash", credentials.hash)
    return credentials


@pytest.fixture(scope="session")
def host_env(emulators: EmulatorStack, azurite: Azurite) -> dict[str, str]:
    """The app settings the session's host runs with: the emulators and Azurite."""
    return {
        **emulators.app_environment(),
        **storage_env(azurite),
        "LOCAL_HOST_MAX_POLLING_INTERVAL_SECONDS": "0.5",
        # This host shares the session's emulators with other tests: its incident poller
        # must not forward their incidents, so it is scheduled for New Year only.
        "INCIDENT_POLL_SCHEDULE": "0 0 0 1 1 *",
        "RETRY_BASE_SECONDS": "0.5",
        "RETRY_MAX_SECONDS": "2",
    }


@pytest.fixture(scope="package")  # stopped after tests/e2e, so its timers touch nothing else
def host(
    host_env: dict[str, str], state_dir: Path, host_fig_credentials: FigCredentials
) -> Iterator[LocalHostProcess]:
    log_path = state_dir / "e2e-host.log"
    remember_log_file(log_path)
    with LocalHostProcess(env=host_env, log_path=log_path) as process:
        yield process


@pytest.fixture
def fig(emulators: EmulatorStack, host_fig_credentials: FigCredentials) -> FigCredentials:
    """The session's Fig credentials, with the hash (back) in the vault and a clean table."""
    emulators.keyvault.set_secret("fig-secret-hash", host_fig_credentials.hash)
    emulators.ingestion.reset()
    return host_fig_credentials


@pytest.fixture(scope="session")
def wallarm_token(emulators: EmulatorStack) -> str:
    """Wallarm's token, in the vault (the source is off until it is)."""
    token = remember_secret(secrets.token_hex(24))
    emulators.keyvault.set_secret("wallarm-token", token)
    return token
