"""SIGNL4's guide options: the tag, the augmentation switch, owner on acknowledge/close,
and linked items in the alert body, against the emulators."""

from __future__ import annotations

import pytest

from local.emulators.stack import EmulatorStack
from shared.bootstrap import root
from tests.azure_fixtures import use_settings
from tests.functions.incident_support import labels, received, run_poll, seed
from tests.functions.test_incident_signl4 import call, event, stored, token

__all__ = ["token"]  # the callback token fixture, shared with the SIGNL4 round-trip tests
pytestmark = pytest.mark.usefixtures("incident_env")


def test_the_tag_is_the_one_configured(emulators: EmulatorStack) -> None:
    """SIGNL4_TAG names the label an incident SIGNL4 took gets."""
    use_settings(SIGNL4_TAG="Paged")
    incident = seed(emulators, title="tagged")
    run_poll(root().forwarder())
    assert labels(emulators, incident["name"]) == ["Paged"]


def test_an_empty_tag_writes_nothing(emulators: EmulatorStack) -> None:
    """SIGNL4_TAG set but empty: the incident is forwarded and never written."""
    use_settings(SIGNL4_TAG="")
    incident = seed(emulators, title="untagged")
    run_poll(root().forwarder())
    assert len(received(emulators)) == 1
    assert labels(emulators, incident["name"]) == []
    assert emulators.sentinel.calls("put") == 0


def test_augmentation_can_be_turned_off(emulators: EmulatorStack) -> None:
    """INCIDENT_AUGMENT=false: no alert or entity reads, no linked items."""
    use_settings(INCIDENT_AUGMENT="false")
    seed(emulators, title="plain")
    run_poll(root().forwarder())
    [body] = received(emulators)
    assert "Accounts" not in body
    assert "Products" not in body
    assert emulators.sentinel.calls("alerts") == emulators.sentinel.calls("entities") == 0


def test_linked_items_are_in_the_alert_body(emulators: EmulatorStack) -> None:
    """Product names and entity display names, as SIGNL4's own integration shows them."""
    seed(emulators, title="linked")
    run_poll(root().forwarder())
    [body] = received(emulators)
    assert body["Products"] == "Azure Sentinel"
    assert body["Entities"] == "Account: domain\\administrator"
    assert "Products: Azure Sentinel" in body["Message"]


@pytest.mark.parametrize(
    ("owner_on", "after_ack", "after_close"),
    [
        ("acknowledge,close", "rene@signl4.com", "rene@signl4.com"),
        ("close", None, "rene@signl4.com"),
        ("acknowledge", "rene@signl4.com", "rene@signl4.com"),
        ("", None, None),
    ],
)
def test_the_owner_is_set_when_configured(
    emulators: EmulatorStack,
    token: str,
    owner_on: str,
    after_ack: str | None,
    after_close: str | None,
) -> None:
    """SIGNL4_OWNER_ON: the responder becomes owner on acknowledge, on close, both or never."""
    use_settings(SIGNL4_OWNER_ON=owner_on)
    name = seed(emulators, title="owned")["name"]
    run_poll(root().forwarder())
    assert call(token, event("signl4_outbound_signl_acknowledged.json", name)).status_code == 200
    assert (stored(emulators, name).get("owner") or {}).get("email") == after_ack
    assert call(token, event("signl4_outbound_signl_closed.json", name)).status_code == 200
    props = stored(emulators, name)
    assert (props["status"], (props.get("owner") or {}).get("email")) == ("Closed", after_close)
