"""Reader-only mode: no tag, no SIGNL4 callback, no case write-back. The poller forwards and
writes nothing to Sentinel, and the health checks pass under Microsoft Sentinel Reader."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from local.emulators.stack import EmulatorStack
from shared.bootstrap import root
from shared.diagnostics.incidents import incident_checks
from tests.azure_fixtures import use_settings
from tests.functions.incident_support import labels, received, run_poll, seed

pytestmark = pytest.mark.usefixtures("incident_env")


def reader_only(**more: str) -> str:
    """Settings that write nothing; the secrets of the callback and the cases are absent."""
    cases = f"absent-{uuid.uuid4().hex}"
    settings = {
        "SIGNL4_TAG": "",
        "WEBHOOK_TAGS": "false",
        "SIGNL4_CALLBACK_TOKEN_NAME": f"absent-{uuid.uuid4().hex}",
        "ELASTIC_AUTH_NAME": cases,
    }
    use_settings(**(settings | more))
    return cases


def test_forwarding_under_reader_writes_nothing(emulators: EmulatorStack) -> None:
    """SIGNL4 gets the incident; Sentinel is only read."""
    reader_only()
    emulators.sentinel.set_role("reader")
    incident = seed(emulators, title="read only")
    result = run_poll(root().forwarder())
    assert result.complete
    assert [b["X-S4-ExternalID"] for b in received(emulators)] == [incident["name"]]
    assert emulators.sentinel.calls("put") == emulators.sentinel.calls("comment") == 0
    assert labels(emulators, incident["name"]) == []


def test_health_is_green_under_reader(emulators: EmulatorStack) -> None:
    """The permission check asks only for read access when nothing writes."""
    cases = reader_only()
    emulators.sentinel.set_role("reader")
    found = asyncio.run(
        incident_checks(
            root().clients().credential,
            root().forwarder(),
            datetime.now(UTC),
            case_secret=cases,
        )
    )
    by_name = {check.name: check for check in found}
    assert all(check.ok for check in found), found
    assert "sentinel:write" not in by_name
    assert "Reader" in by_name["sentinel:read"].detail


def test_a_tag_brings_the_write_check_back(emulators: EmulatorStack) -> None:
    """With SIGNL4_TAG set, Reader is not enough and the check says so."""
    reader_only(SIGNL4_TAG="SIGNL4")
    emulators.sentinel.set_role("reader")
    found = asyncio.run(
        incident_checks(root().clients().credential, root().forwarder(), datetime.now(UTC))
    )
    write = next(check for check in found if check.name == "sentinel:write")
    assert not write.ok
