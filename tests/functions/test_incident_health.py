"""The incident connection test: token, list $top=1, write permission, destinations."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

from local.emulators.stack import EmulatorStack
from shared.bootstrap import root
from shared.diagnostics.checks import Check
from shared.diagnostics.incidents import incident_checks
from shared.incidents.breaker import Breaker
from shared.incidents.forward import Forwarder


def checks(forwarder: Forwarder) -> dict[str, Check]:
    found = asyncio.run(incident_checks(root().clients().credential, forwarder, datetime.now(UTC)))
    return {check.name: check for check in found}


def test_a_responder_passes_every_check_with_one_list_of_one(
    emulators: EmulatorStack, forwarder: Forwarder
) -> None:
    """Token, list ($top=1), write permission and SIGNL4's breaker all pass."""
    found = checks(forwarder)
    assert all(check.ok for check in found.values()), found
    assert set(found) == {
        "token:https://management.azure.com",
        "sentinel:incidents",
        "sentinel:write",
        "destination:SIGNL4",
    }
    [listed] = emulators.sentinel.history("list")
    assert listed["query"]["$top"] == "1"
    assert emulators.sentinel.calls("put") == 0


def test_a_reader_is_told_to_get_the_responder_role(
    emulators: EmulatorStack, forwarder: Forwarder
) -> None:
    """Reader lists fine but may not write: the check names Microsoft Sentinel Responder."""
    emulators.sentinel.set_role("reader")
    found = checks(forwarder)
    assert found["sentinel:incidents"].ok
    write = found["sentinel:write"]
    assert not write.ok
    assert write.action is not None
    assert "Microsoft Sentinel Responder" in write.action


def test_no_role_at_all_fails_the_list_with_the_role_to_assign(
    emulators: EmulatorStack, forwarder: Forwarder
) -> None:
    """A 403 on the list names the role."""
    emulators.sentinel.set_role("none")
    listed = checks(forwarder)["sentinel:incidents"]
    assert not listed.ok
    assert listed.action is not None
    assert "Responder" in listed.action


def test_a_disabled_destination_fails_its_check(forwarder: Forwarder) -> None:
    """The health endpoint shows a destination its breaker switched off."""
    now = datetime.now(UTC)
    asyncio.run(forwarder.state.save_breaker("SIGNL4", Breaker(disabled_at=now)))
    check = checks(forwarder)["destination:SIGNL4"]
    assert not check.ok
    assert check.action is not None
    assert "/api/ops/destinations/SIGNL4/enable" in check.action


def test_off_without_a_workspace(forwarder: Forwarder) -> None:
    """No SENTINEL_* settings: one passing entry, no ARM call."""
    off = replace(forwarder, settings=replace(forwarder.settings, subscription_id=""))
    assert [c.name for c in checks(off).values()] == ["incidents"]
