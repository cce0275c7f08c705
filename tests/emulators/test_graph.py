"""The Microsoft Graph security incidents stand-in: paging, filters, expand, writes, roles,
throttling; and the Sentinel emulator's many workspaces and Lighthouse tenancy."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from local.emulators import EmulatorStack, Fault
from local.emulators.graph import AUDIENCE

WRITE = "SecurityIncident.ReadWrite.All"


@pytest.fixture
def graph(stack: EmulatorStack) -> Iterator[EmulatorStack]:
    """The stack, its Graph tokens carrying the write permission (restored after)."""
    stack.identity.grant_app_roles(AUDIENCE, WRITE)
    yield stack
    stack.identity.grant_app_roles(AUDIENCE, WRITE)


def call(stack: EmulatorStack, method: str, path: str, **kwargs: Any) -> requests.Response:
    """One request to the Graph stand-in with a token the identity emulator minted."""
    token, _ = stack.identity.mint(AUDIENCE)
    return requests.request(
        method,
        path if path.startswith("https://") else stack.graph_endpoint + path,
        headers={"Authorization": f"Bearer {token}"},
        verify=str(stack.ca_path),
        timeout=5,
        **kwargs,
    )


def test_list_pages_by_next_link_filters_on_last_update_and_expands_alerts(
    graph: EmulatorStack,
) -> None:
    """Newest first, $top at most 50, @odata.nextLink until the end; alerts only expanded."""
    for number in range(55):
        graph.graph.seed_incident(displayName=f"n{number}")
    first = call(graph, "GET", "/v1.0/security/incidents", params={"$top": "100"}).json()
    assert len(first["value"]) == 50
    assert "alerts" not in first["value"][0]
    rest = call(graph, "GET", first["@odata.nextLink"]).json()
    assert len(rest["value"]) == 5
    assert "@odata.nextLink" not in rest
    newest = first["value"][0]
    graph.graph.update_incident(newest["id"], severity="high")
    changed = call(
        graph,
        "GET",
        "/v1.0/security/incidents",
        params={
            "$filter": f"lastUpdateDateTime gt {newest['lastUpdateDateTime']}",
            "$expand": "alerts",
        },
    ).json()["value"]
    assert [i["id"] for i in changed] == [newest["id"]]
    assert changed[0]["alerts"][0]["@odata.type"] == "#microsoft.graph.security.alert"
    bad = call(graph, "GET", "/v1.0/security/incidents", params={"$filter": "title eq 'x'"})
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "BadRequest")


def test_patch_takes_the_documented_enums_and_comments_append(graph: EmulatorStack) -> None:
    """status/classification/determination are checked; a comment returns every comment."""
    incident_id = graph.graph.seed_incident()["id"]
    path = f"/v1.0/security/incidents/{incident_id}"
    ok = call(
        graph,
        "PATCH",
        path,
        json={"status": "resolved", "classification": "truePositive", "determination": "malware"},
    )
    assert ok.status_code == 200
    assert ok.json()["status"] == "resolved"
    assert call(graph, "PATCH", path, json={"status": "Closed"}).status_code == 400
    assert call(graph, "PATCH", path, json={"displayName": "x"}).status_code == 400
    body = {"@odata.type": "microsoft.graph.security.alertComment", "comment": "Demo"}
    answer = call(graph, "POST", path + "/comments", json=body).json()
    assert [c["comment"] for c in answer["value"]] == ["Demo"]
    assert call(graph, "GET", "/v1.0/security/incidents/999").status_code == 404


def test_a_token_without_the_write_permission_reads_but_cannot_write(
    graph: EmulatorStack,
) -> None:
    """Read.All lists; PATCH and comments answer 403; no role at all cannot even list."""
    incident_id = graph.graph.seed_incident()["id"]
    graph.identity.grant_app_roles(AUDIENCE, "SecurityIncident.Read.All")
    assert call(graph, "GET", "/v1.0/security/incidents").status_code == 200
    refused = call(graph, "PATCH", f"/v1.0/security/incidents/{incident_id}", json={})
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "Forbidden")
    graph.identity.grant_app_roles(AUDIENCE)
    assert call(graph, "GET", "/v1.0/security/incidents").status_code == 403


def test_throttling_answers_429_with_retry_after(graph: EmulatorStack) -> None:
    """A fault rule answers Graph's error envelope with Retry-After."""
    graph.graph.faults.add(Fault(status=429, retry_after=7, times=1, error_code="TooManyRequests"))
    throttled = call(graph, "GET", "/v1.0/security/incidents")
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "7"
    assert throttled.json()["error"]["code"] == "TooManyRequests"
    assert call(graph, "GET", "/v1.0/security/incidents").status_code == 200


def test_a_second_workspace_in_a_delegated_tenant_takes_the_providers_token(
    stack: EmulatorStack,
) -> None:
    """Lighthouse: the customer's subscription accepts the provider tenant's token when
    delegated, refuses it (401 InvalidAuthenticationTokenTenant) otherwise; workspaces of
    one subscription share its read budget."""
    delegated = stack.sentinel.add_workspace(
        "sub-customer", "rg", "law", tenant_id="customer-tenant", delegated_to=(stack.tenant_id,)
    )
    stack.sentinel.add_workspace("sub-other", "rg", "law", tenant_id="other-tenant")
    sibling = stack.sentinel.add_workspace(stack.sentinel_subscription_id, "rg2", "law2")
    delegated.incidents.seed({"title": "theirs"}, incident_id=None, alerts=None, entities=None)
    token, _ = stack.identity.mint("https://management.azure.com")

    def incidents(subscription: str, group: str = "rg", workspace: str = "law") -> Any:
        return requests.get(
            f"{stack.arm_endpoint}/subscriptions/{subscription}/resourceGroups/{group}/providers/"
            f"Microsoft.OperationalInsights/workspaces/{workspace}/providers/"
            "Microsoft.SecurityInsights/incidents",
            params={"api-version": "2025-06-01"},
            headers={"Authorization": f"Bearer {token}"},
            verify=str(stack.ca_path),
            timeout=5,
        )

    ours = incidents("sub-customer")
    assert [i["properties"]["title"] for i in ours.json()["value"]] == ["theirs"]
    refused = incidents("sub-other")
    assert (refused.status_code, refused.json()["error"]["code"]) == (
        401,
        "InvalidAuthenticationTokenTenant",
    )
    before = int(
        incidents(stack.sentinel_subscription_id, "rg2", "law2").headers[
            "x-ms-ratelimit-remaining-subscription-reads"
        ]
    )
    incidents(
        stack.sentinel_subscription_id, stack.sentinel_resource_group, stack.sentinel_workspace_name
    )
    assert sibling.stats()["remaining"]["reads"] == before - 1
