"""Destination URLs at configuration time: https, a port in range, no internal address."""

from __future__ import annotations

import pytest

from shared.config.desturls import destination_problem
from shared.config.incidents import parse_webhook_destinations
from shared.config.settings import Settings
from tests.unit.test_intake import BASE_SETTINGS


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/incidents",
        "https://hooks.example.com:8443/x",
        "https://52.1.2.3/x",
        "https://[2606:4700::1111]:443/x",
        "https://connect.signl4.com/webhook/",
    ],
)
def test_public_https_urls_are_fine(url: str) -> None:
    """An https URL on a public name or address, any valid port."""
    assert destination_problem(url, allow_private=False) is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://hooks.example.com/x", "https"),
        ("ftp://hooks.example.com/x", "https"),
        ("https:///x", "https"),
        ("not a url", "https"),
        (42, "https"),
        ("https://hooks.example.com:99999/x", "port"),
        ("https://hooks.example.com:0/x", "port"),
        ("https://hooks.example.com:-1/x", "port"),
        ("https://127.0.0.1/x", "private"),
        ("https://localhost:7085/x", "private"),
        ("https://api.localhost/x", "private"),
        ("https://169.254.169.254/metadata", "private"),
        ("https://10.1.2.3/x", "private"),
        ("https://172.16.0.1/x", "private"),
        ("https://192.168.1.1/x", "private"),
        ("https://0.0.0.0/x", "private"),
        ("https://[::1]/x", "private"),
        ("https://[fe80::1]/x", "private"),
        ("https://[fd00::1]/x", "private"),
        ("https://[::ffff:127.0.0.1]/x", "private"),
        ("https://127.1/x", "private"),
        ("https://2130706433/x", "private"),
        ("https://0x7f.0.0.1/x", "private"),
        ("https://224.0.0.1/x", "private"),
    ],
)
def test_bad_destinations_are_named_without_the_url(url: object, problem: str) -> None:
    """Each refusal says what is wrong, never quoting the URL (it may hold a secret)."""
    found = destination_problem(url, allow_private=False)
    assert found is not None
    assert problem in found
    assert not isinstance(url, str) or url not in found


@pytest.mark.parametrize(
    "url", ["https://127.0.0.1:7085/webhook/", "https://10.0.0.4/x", "https://localhost/x"]
)
def test_internal_addresses_pass_when_allowed(url: str) -> None:
    """ALLOW_PRIVATE_DESTINATIONS=true: private deployments and the local emulators."""
    assert destination_problem(url, allow_private=True) is None


def test_allowed_private_still_needs_https_and_a_valid_port() -> None:
    """The allowance covers addresses only."""
    assert destination_problem("http://127.0.0.1/x", allow_private=True) is not None
    assert destination_problem("https://127.0.0.1:70000/x", allow_private=True) is not None


def test_webhook_destinations_are_refused_at_configuration_time() -> None:
    """A bad port or a private address in WEBHOOK_DESTINATIONS is a configuration problem."""
    problems: list[str] = []
    text = (
        '[{"name": "a", "url": "https://h.example.com:99999/", "secretName": "s"},'
        ' {"name": "b", "url": "https://169.254.169.254/", "secretName": "s"},'
        ' {"name": "c", "url": "https://h.example.com/", "secretName": "s"}]'
    )
    found = parse_webhook_destinations(text, problems)
    assert [d.name for d in found] == ["c"]
    assert [p.split(".url")[0] for p in problems] == [
        "WEBHOOK_DESTINATIONS[0]",
        "WEBHOOK_DESTINATIONS[1]",
    ]


def test_signl4_base_is_checked_like_any_destination() -> None:
    """SIGNL4_WEBHOOK_BASE carries the team secret: https and no internal address (a bad
    one turns off incident forwarding, and only that)."""
    for base in ("http://connect.signl4.com/webhook/", "https://127.0.0.1:7085/webhook/"):
        refused = Settings.from_env({**BASE_SETTINGS, "SIGNL4_WEBHOOK_BASE": base})
        assert any("SIGNL4_WEBHOOK_BASE" in p for p in refused.problems_of("incidents"))
    allowed = Settings.from_env(
        {
            **BASE_SETTINGS,
            "SIGNL4_WEBHOOK_BASE": "https://127.0.0.1:7085/webhook/",
            "ALLOW_PRIVATE_DESTINATIONS": "true",
        }
    )
    assert allowed.incidents.signl4_webhook_base == "https://127.0.0.1:7085/webhook/"


def test_the_allowance_must_be_a_boolean() -> None:
    """A typo in ALLOW_PRIVATE_DESTINATIONS is reported, not read as false silently."""
    refused = Settings.from_env({**BASE_SETTINGS, "ALLOW_PRIVATE_DESTINATIONS": "maybe"})
    assert any("ALLOW_PRIVATE_DESTINATIONS" in p for p in refused.problems_of("incidents"))


def test_a_bad_destination_turns_off_only_itself() -> None:
    """A bad WEBHOOK_DESTINATIONS entry is the destinations' problem: forwarding to the
    others, and the poller, stay on (health names it under feature:destinations)."""
    text = (
        '[{"name": "bad", "url": "https://169.254.169.254/", "secretName": "s"},'
        ' {"name": "good", "url": "https://h.example.com/", "secretName": "s"}]'
    )
    settings = Settings.from_env({**BASE_SETTINGS, "WEBHOOK_DESTINATIONS": text})
    assert settings.problems_of("incidents") == ()
    assert "WEBHOOK_DESTINATIONS[0]" in settings.problems_of("destinations")[0]
    assert [d.name for d in settings.incidents.webhooks] == ["good"]
