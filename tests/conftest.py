"""Fixtures for the whole suite, the Hypothesis profile, and the check that no secret is logged.

Every secret or hash a test makes is registered with ``tests.logscan.remember_secret``.
All log records of the run (the app's, the SDKs', the emulators') are kept in memory,
and the local host's log files (every ``*.log`` under the session's temporary directory)
are scanned too; when the session ends, any record or
file that contains a registered secret fails the run.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests import logscan

pytest_plugins = [
    "tests.azure_fixtures",
    "tests.retry_support",
    "tests.functions.incident_support",
]

# Every property test runs under this profile; a test sets only its own max_examples.
# No deadline: examples share two cores with the emulators, Azurite and other suites, and
# run under faketime too, so their duration says nothing about the code.
settings.register_profile(
    "sentinel-bridge",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile("sentinel-bridge")


def pytest_configure(config: pytest.Config) -> None:
    root = logging.getLogger()
    root.addHandler(logscan.HANDLER)
    root.setLevel(logging.DEBUG)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    leaks = logscan.find_leaks(logscan.SECRETS, logscan.HANDLER.texts(), logscan.all_log_files())
    if not leaks:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    for leak in leaks:
        if reporter is not None:
            reporter.write_line(f"SECRET IN LOGS: {leak}", red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session", autouse=True)
def _scan_every_log_under_tmp(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every host's own log file is scanned too, registered or not (e.g. ``local.run``'s)."""
    logscan.LOG_ROOTS.append(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="session")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("local-azure")
