"""The Sentinel emulator's ARM surface: auth, roles, permissions, headers, faults, admin."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from azure.core.credentials import TokenCredential
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
)
from azure.core.pipeline.transport import HttpResponse
from azure.identity import ManagedIdentityCredential
from azure.mgmt.securityinsight import SecurityInsights
from azure.mgmt.securityinsight.models import Incident

from local.emulators import EmulatorStack, Fault
from tests.emulators.conftest import StaticTokenCredential


def sdk(
    stack: EmulatorStack, credential: TokenCredential, ca: str, **kwargs: Any
) -> SecurityInsights:
    """A SecurityInsights client for the emulated ARM endpoint."""
    kwargs.setdefault("retry_total", 0)
    return SecurityInsights(
        credential,
        stack.sentinel_subscription_id,
        base_url=stack.arm_endpoint,
        connection_verify=ca,
        **kwargs,
    )


@pytest.fixture
def client(
    stack: EmulatorStack, credential: ManagedIdentityCredential, ca: str
) -> Iterator[SecurityInsights]:
    """The real SDK client, authenticated by the emulated managed identity."""
    with sdk(stack, credential, ca) as security_insights:
        yield security_insights


@pytest.fixture
def where(stack: EmulatorStack) -> tuple[str, str]:
    """The resource group and workspace every call names."""
    return stack.sentinel_resource_group, stack.sentinel_workspace_name


def arm_get(stack: EmulatorStack, ca: str, path: str, api_version: str) -> requests.Response:
    """A plain GET under the workspace with an ARM token, for routes the SDK lacks."""
    token, _ = stack.identity.mint("https://management.azure.com/")
    return requests.get(
        f"{stack.arm_endpoint}{stack.sentinel.ref.workspace_id}/{path}",
        params={"api-version": api_version},
        headers={"Authorization": f"Bearer {token}"},
        verify=ca,
        timeout=5,
    )


def test_alerts_and_entities_are_the_seeded_shapes(
    stack: EmulatorStack, client: SecurityInsights, where: tuple[str, str]
) -> None:
    """The alerts and entities POSTs return the seeded SecurityAlert and Account."""
    seeded = stack.sentinel.seed_incident(title="Brute force", severity="High")
    alerts = client.incidents.list_alerts(*where, seeded["name"]).value or []
    assert [(a.alert_display_name, a.severity) for a in alerts] == [("Brute force", "High")]
    entities = client.incidents.list_entities(*where, seeded["name"])
    assert [(e.kind, e.account_name) for e in entities.entities or []] == [
        ("Account", "administrator")
    ]
    assert [(m.entity_kind, m.count) for m in entities.meta_data or []] == [("Account", 1)]
    assert stack.sentinel.calls("alerts") == stack.sentinel.calls("entities") == 1


@pytest.mark.parametrize(
    ("role", "incident_actions"),
    [
        ("responder", ["Microsoft.SecurityInsights/incidents/*"]),
        ("reader", []),
        ("none", None),
    ],
)
def test_permissions_api_lists_the_role(
    stack: EmulatorStack, ca: str, role: Any, incident_actions: list[str] | None
) -> None:
    """Permissions - List For Resource shows the documented actions of the set role."""
    stack.sentinel.set_role(role)
    response = arm_get(stack, ca, "providers/Microsoft.Authorization/permissions", "2022-04-01")
    assert response.status_code == 200
    value = response.json()["value"]
    if incident_actions is None:
        assert value == []
        return
    actions = value[0]["actions"]
    assert [a for a in actions if a.startswith("Microsoft.SecurityInsights/incidents")] == (
        incident_actions
    )
    assert "Microsoft.SecurityInsights/*/read" in actions
    assert set(value[0]) == {"actions", "notActions", "dataActions", "notDataActions"}


def test_reader_can_read_but_not_write(
    stack: EmulatorStack, client: SecurityInsights, where: tuple[str, str]
) -> None:
    """With the Reader role, GET and the alerts POST work and a PUT is 403."""
    seeded = stack.sentinel.seed_incident(title="x")
    stack.sentinel.set_role("reader")
    incident = client.incidents.get(*where, seeded["name"])
    assert client.incidents.list_alerts(*where, seeded["name"]).value
    with pytest.raises(HttpResponseError) as raised:
        client.incidents.create_or_update(*where, seeded["name"], incident)
    assert raised.value.status_code == 403
    assert raised.value.error is not None
    assert raised.value.error.code == "AuthorizationFailed"


def test_no_role_cannot_list(
    stack: EmulatorStack, client: SecurityInsights, where: tuple[str, str]
) -> None:
    """Without a role even the list is 403."""
    stack.sentinel.set_role("none")
    with pytest.raises(HttpResponseError) as raised:
        list(client.incidents.list(*where))
    assert raised.value.status_code == 403


def test_managed_identity_token_is_for_arm(
    stack: EmulatorStack, client: SecurityInsights, where: tuple[str, str]
) -> None:
    """The SDK asks the identity endpoint for an ARM token, which the emulator accepts."""
    list(client.incidents.list(*where))
    assert stack.identity.stats()["tokens_issued"] == {"https://management.azure.com": 1}


@pytest.mark.parametrize(
    "audience", ["https://management.azure.com", "https://management.azure.com/"]
)
def test_both_arm_audience_spellings_are_accepted(
    stack: EmulatorStack, ca: str, where: tuple[str, str], audience: str
) -> None:
    """aud with or without the trailing slash is an ARM token."""
    token, expires_on = stack.identity.mint(audience)
    with sdk(stack, StaticTokenCredential(token, expires_on), ca) as security_insights:
        assert list(security_insights.incidents.list(*where)) == []


@pytest.mark.parametrize(
    ("audience", "lifetime", "code"),
    [
        ("https://vault.azure.net", 3600, "InvalidAuthenticationTokenAudience"),
        ("https://management.azure.com/", -60, "ExpiredAuthenticationToken"),
    ],
)
def test_bad_tokens_are_401_with_arm_codes(
    stack: EmulatorStack, ca: str, where: tuple[str, str], audience: str, lifetime: int, code: str
) -> None:
    """A wrong-audience or expired token raises ClientAuthenticationError (401)."""
    token, expires_on = stack.identity.mint(audience, lifetime=lifetime)
    with (
        sdk(stack, StaticTokenCredential(token, expires_on), ca) as security_insights,
        pytest.raises(ClientAuthenticationError) as raised,
    ):
        list(security_insights.incidents.list(*where))
    assert raised.value.status_code == 401
    assert raised.value.error is not None
    assert raised.value.error.code == code
    assert stack.sentinel.stats()["refused"] == 1


def test_unknown_workspace_is_resource_not_found(
    client: SecurityInsights, stack: EmulatorStack
) -> None:
    """A workspace other than the emulated one is a 404 ResourceNotFound."""
    with pytest.raises(ResourceNotFoundError) as raised:
        list(client.incidents.list(stack.sentinel_resource_group, "other-workspace"))
    assert raised.value.error is not None
    assert raised.value.error.code == "ResourceNotFound"


def test_ratelimit_headers_count_down(
    stack: EmulatorStack, client: SecurityInsights, where: tuple[str, str]
) -> None:
    """Every answer carries x-ms-ratelimit-remaining-* and a request id; reads count down."""
    seeded = stack.sentinel.seed_incident(title="x")
    stack.sentinel.set_ratelimit_remaining(reads=10, writes=5)
    seen: list[dict[str, str]] = []

    def keep_headers(pipeline_response: Any, deserialized: Incident, headers: Any) -> Incident:
        seen.append(dict(pipeline_response.http_response.headers))
        return deserialized

    incident = client.incidents.get(*where, seeded["name"], cls=keep_headers)
    client.incidents.get(*where, seeded["name"], cls=keep_headers)
    client.incidents.create_or_update(*where, seeded["name"], incident, cls=keep_headers)
    assert [h.get("x-ms-ratelimit-remaining-subscription-reads") for h in seen] == ["9", "8", None]
    assert seen[2]["x-ms-ratelimit-remaining-subscription-writes"] == "4"
    assert all(h["x-ms-request-id"] for h in seen)


def test_a_429_with_retry_after_is_retried_by_the_sdk(
    stack: EmulatorStack, ca: str, credential: ManagedIdentityCredential, where: tuple[str, str]
) -> None:
    """One throttled GET answers 429 with Retry-After; azure-core waits and retries it."""
    seeded = stack.sentinel.seed_incident(title="x")
    stack.sentinel.faults.add(Fault(status=429, retry_after=0, times=1, method="GET"))
    with sdk(stack, credential, ca, retry_total=1) as security_insights:
        assert security_insights.incidents.get(*where, seeded["name"]).title == "x"
    assert stack.sentinel.faults.applied == 1
    assert stack.sentinel.calls("get") == 1


def test_a_429_surfaces_when_retries_are_off(
    stack: EmulatorStack, client: SecurityInsights, where: tuple[str, str]
) -> None:
    """Without retries the 429 reaches the caller with its Retry-After header."""
    stack.sentinel.faults.add(Fault(status=429, retry_after=7, error_code="TooManyRequests"))
    with pytest.raises(HttpResponseError) as raised:
        list(client.incidents.list(*where))
    assert raised.value.status_code == 429
    response = raised.value.response
    assert isinstance(response, HttpResponse)
    assert response.headers["Retry-After"] == "7"


def test_admin_routes_seed_edit_and_report(stack: EmulatorStack, ca: str) -> None:
    """POST seeds, PATCH edits as an analyst, stats count calls, config switches the role."""
    admin = f"{stack.arm_endpoint}/_emulator"
    created = requests.post(f"{admin}/incidents", json={"title": "t"}, verify=ca, timeout=5)
    assert created.status_code == 201
    name, etag = created.json()["name"], created.json()["etag"]
    edited = requests.patch(
        f"{admin}/incidents/{name}", json={"status": "Active"}, verify=ca, timeout=5
    )
    assert edited.json()["properties"]["status"] == "Active"
    assert edited.json()["etag"] != etag
    config = requests.patch(f"{admin}/config", json={"role": "reader"}, verify=ca, timeout=5)
    assert config.json()["role"] == "reader"
    bad = requests.patch(f"{admin}/config", json={"role": "owner"}, verify=ca, timeout=5)
    assert bad.status_code == 400
    listed = requests.get(f"{admin}/incidents", verify=ca, timeout=5).json()["incidents"]
    assert [i["name"] for i in listed] == [name]
    stats = requests.get(f"{admin}/stats", verify=ca, timeout=5).json()
    assert stats["incidents"] == 1
