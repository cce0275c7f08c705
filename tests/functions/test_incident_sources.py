"""Many incident sources from one deployment: two Sentinel workspaces (one in a customer
tenant reached through a Lighthouse-style delegation) and Microsoft Graph's security
incidents, forwarded to SIGNL4 and a signed webhook, with SIGNL4's answers written back
to the source each incident came from; one source failing while the others keep working."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from local.emulators.faults import Fault
from local.emulators.graph import AUDIENCE as GRAPH
from local.emulators.sentinel_store import SentinelStore
from local.emulators.stack import EmulatorStack
from shared.adapters.retry_storage import RetryStorage
from shared.bootstrap import root
from shared.diagnostics.health import run_health
from shared.errors import NotFound
from shared.inbound.request import InboundRequest
from shared.incidents.domain.breaker import Breaker
from shared.incidents.ops import DestinationOps
from shared.incidents.poller import PollResult
from shared.incidents.schedule import poll_sources_if_configured
from shared.incidents.table import TableIncidentState
from shared.retrying.deps import Result
from tests.azure_fixtures import use_settings
from tests.functions.incident_support import (
    WebhookReceiver,
    envelopes,
    received,
    retry,
    take_queued,
)
from tests.functions.test_incident_signl4 import call, event
from tests.logscan import remember_secret
from tests.payloads import parsed

pytestmark = pytest.mark.usefixtures("incident_env")
HOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
TOKEN_NAME = "signl4-callback-token"


@dataclass
class Sources:
    """The three sources' emulated stores and the settings naming them."""

    customer: SentinelStore
    customer_tenant: str
    settings: list[dict[str, Any]]


def configure(emulators: EmulatorStack, receiver: WebhookReceiver, *, delegated: bool) -> Sources:
    """Two Sentinel workspaces (ours, and a customer's in another tenant) and Graph."""
    emulators.graph.reset()
    customer_tenant = str(uuid.uuid4())
    subscription = str(uuid.uuid4())
    customer = emulators.sentinel.add_workspace(
        subscription,
        "rg-customer",
        "law-customer",
        tenant_id=customer_tenant,
        delegated_to=(emulators.tenant_id,) if delegated else (),
    )
    emulators.keyvault.set_secret("hook-a-secret", remember_secret(HOOK_SECRET))
    sources: list[dict[str, Any]] = [
        {
            "id": "default",
            "kind": "sentinel",
            "subscriptionId": emulators.sentinel_subscription_id,
            "resourceGroup": emulators.sentinel_resource_group,
            "workspace": emulators.sentinel_workspace_name,
        },
        {
            "id": "customer-b",
            "kind": "sentinel",
            "subscriptionId": subscription,
            "resourceGroup": "rg-customer",
            "workspace": "law-customer",
        },
        {"id": "defender", "kind": "graph", "statuses": ["New", "Active"]},
    ]
    destinations = [
        {"name": "hook-a", "url": receiver.url("hooks/a"), "secretName": "hook-a-secret"}
    ]
    use_settings(
        INCIDENT_SOURCES=json.dumps(sources),
        SENTINEL_SUBSCRIPTION_ID=None,
        SENTINEL_RESOURCE_GROUP=None,
        SENTINEL_WORKSPACE_NAME=None,
        WEBHOOK_DESTINATIONS=json.dumps(destinations),
    )
    return Sources(customer, customer_tenant, sources)


@pytest.fixture
def token(emulators: EmulatorStack) -> str:
    """The SIGNL4 callback token, in the vault."""
    value = remember_secret(uuid.uuid4().hex + uuid.uuid4().hex)
    emulators.keyvault.set_secret(TOKEN_NAME, value)
    return value


@pytest.fixture
def graph_roles(emulators: EmulatorStack) -> Iterator[None]:
    """Restores the identity's Graph permission after a test that revokes it."""
    yield
    emulators.identity.grant_app_roles(GRAPH, "SecurityIncident.ReadWrite.All")


def poll_all() -> dict[str, PollResult]:
    """One timer tick: every source polled."""
    results = asyncio.run(poll_sources_if_configured(root().incident_fleet, now=datetime.now(UTC)))
    assert results is not None
    return results


def seed_three(emulators: EmulatorStack, sources: Sources) -> tuple[str, str, str]:
    """One incident in each source; their names."""
    ours = emulators.sentinel.seed_incident(title="ours")["name"]
    theirs = sources.customer.incidents.seed(
        {"title": "customer's"}, incident_id=None, alerts=None, entities=None
    )["name"]
    graph = emulators.graph.seed_incident(displayName="defender's", severity="high")["id"]
    return ours, theirs, graph


def test_three_sources_forward_and_take_acknowledgements_and_closes_back(
    emulators: EmulatorStack, receiver: WebhookReceiver, token: str
) -> None:
    """Every source's incident reaches SIGNL4 and the signed webhook with its source named;
    SIGNL4's acknowledgement and close land on the source the incident came from."""
    sources = configure(emulators, receiver, delegated=True)
    ours, theirs, graph = seed_three(emulators, sources)
    results = poll_all()
    assert {k: r.complete for k, r in results.items()} == dict.fromkeys(
        ("default", "customer-b", "defender"), True
    )
    titles = {b["X-S4-ExternalID"]: b["Title"] for b in received(emulators)}
    assert titles[f"defender:{graph}"] == f"[Defender XDR] Incident {graph}: defender's"
    ids = sorted(titles)
    assert ids == sorted([ours, f"customer-b:{theirs}", f"defender:{graph}"])
    bodies = [json.loads(body) for _, _, body in receiver.requests]
    assert sorted((b["data"]["source"], b["data"]["sourceKind"]) for b in bodies) == [
        ("customer-b", "sentinel"),
        ("default", "sentinel"),
        ("defender", "graph"),
    ]
    (from_graph,) = [b["data"] for b in bodies if b["data"]["source"] == "defender"]
    assert (from_graph["severity"], from_graph["status"]) == ("High", "New")
    assert from_graph["alerts"][0]["name"] == "Suspicious execution of hidden file"
    assert {"kind": "Host", "name": "ws-042.contoso.local"} in from_graph["entities"]
    stored = {i["id"]: i for i in emulators.graph.incidents()}[graph]
    assert sorted(stored["customTags"]) == ["SIGNL4", "hook-a"]

    for external in (ours, f"customer-b:{theirs}", f"defender:{graph}"):
        ack = event("signl4_outbound_signl_acknowledged.json", external)
        for _ in range(2):  # a redelivery changes nothing more
            assert call(token, ack).status_code == 200
    assert emulators.sentinel.store.incidents.get(ours)["properties"]["status"] == "Active"
    assert sources.customer.incidents.get(theirs)["properties"]["status"] == "Active"
    stored = {i["id"]: i for i in emulators.graph.incidents()}[graph]
    assert (stored["status"], stored["assignedTo"]) == ("inProgress", "rene@signl4.com")

    close = event("signl4_outbound_signl_closed.json", f"defender:{graph}")
    for _ in range(2):
        assert call(token, close).status_code == 200
    stored = {i["id"]: i for i in emulators.graph.incidents()}[graph]
    assert (stored["status"], stored["classification"], stored["determination"]) == (
        "resolved",
        "unknown",
        "unknown",
    )
    assert [c["comment"] for c in stored["comments"]] == [
        "Acknowledged in SIGNL4 by Rene.",
        "Closed in SIGNL4 by Rene.",
    ]
    later = poll_all()  # the bridge's own writes are not news; the close was SIGNL4's own
    assert later["defender"].actions.get("update", 0) == 0
    assert len(received(emulators)) == 3


def test_a_graph_source_refused_its_permission_leaves_the_others_working(
    emulators: EmulatorStack, receiver: WebhookReceiver, graph_roles: None
) -> None:
    """Graph answers 403 without SecurityIncident.Read(Write).All: that source's poll ends
    (its watermark held, health names the permission), the Sentinel sources forward."""
    sources = configure(emulators, receiver, delegated=True)
    emulators.identity.grant_app_roles(GRAPH)  # consent withdrawn: no roles in the token
    ours, theirs, _ = seed_three(emulators, sources)
    results = poll_all()
    assert not results["defender"].complete
    assert "403" in results["defender"].reason
    assert results["default"].complete
    assert results["customer-b"].complete
    assert sorted(b["X-S4-ExternalID"] for b in received(emulators)) == sorted(
        [ours, f"customer-b:{theirs}"]
    )
    report = asyncio.run(run_health(root().health_deps))
    failing = {c.name for c in report.checks if not c.ok}
    assert "source:defender/graph:incidents" in failing
    assert "source:defender/graph:permissions" in failing
    assert not any(name.startswith(("source:default/", "source:customer-b/")) for name in failing)


def test_a_graph_outage_and_an_undelegated_tenant_stop_only_their_own_source(
    emulators: EmulatorStack, receiver: WebhookReceiver
) -> None:
    """Graph down (connection refused) and a customer workspace whose tenant never
    delegated to ours (ARM 401): the default workspace still forwards; once Graph is back,
    its incidents follow on the next tick."""
    sources = configure(emulators, receiver, delegated=False)
    ours, _, graph = seed_three(emulators, sources)
    emulators.stop_emulator("graph")
    try:
        results = poll_all()
    finally:
        emulators.start_emulator("graph")
    assert results["default"].complete
    assert not results["customer-b"].complete
    assert not results["defender"].complete
    assert [b["X-S4-ExternalID"] for b in received(emulators)] == [ours]
    poll_all()
    assert f"defender:{graph}" in [b["X-S4-ExternalID"] for b in received(emulators)]


def test_graph_throttling_is_waited_out_and_paging_reads_every_incident(
    emulators: EmulatorStack, receiver: WebhookReceiver
) -> None:
    """A 429 with Retry-After ends the Graph poll and no Graph call is made until it has
    passed; 60 incidents come in pages of 50 (@odata.nextLink), each forwarded once."""
    configure(emulators, receiver, delegated=True)
    for number in range(60):
        emulators.graph.seed_incident(displayName=f"paged {number}")
    emulators.graph.faults.add(
        Fault(status=429, retry_after=1, times=1, path_prefix="/v1.0/security/incidents")
    )
    first = poll_all()["defender"]
    assert not first.complete
    assert "429" in first.reason
    calls = emulators.graph.calls()
    assert not poll_all()["defender"].complete  # inside Retry-After: Graph is not called
    assert emulators.graph.calls() == calls
    time.sleep(1.1)
    done = poll_all()["defender"]
    assert (done.complete, done.pages, done.listed) == (True, 2, 60)
    graph_ids = [b for b in received(emulators) if b["X-S4-ExternalID"].startswith("defender:")]
    assert len(graph_ids) == 60


def test_a_graph_delivery_queued_in_an_outage_is_retried_and_tagged_in_graph(
    emulators: EmulatorStack, receiver: WebhookReceiver, retry_storage: RetryStorage
) -> None:
    """SIGNL4 down: the Graph incident's delivery is queued with its source; the retry
    worker finds that source's forwarder, delivers, and tags the incident in Graph."""
    configure(emulators, receiver, delegated=True)
    graph = emulators.graph.seed_incident(displayName="queued")["id"]
    emulators.stop_emulator("signl4")
    try:
        results = poll_all()
    finally:
        emulators.start_emulator("signl4")
    assert results["defender"].deliveries == {"queued": 1, "delivered": 1}
    [text] = take_queued(retry_storage, 1)
    [queued] = envelopes([text])
    assert (queued.target, (queued.payload or {}).get("source")) == ("signl4:SIGNL4", "defender")
    assert retry(retry_storage, root().incident_fleet(), text).result is Result.DELIVERED
    assert [b["X-S4-ExternalID"] for b in received(emulators)] == [f"defender:{graph}"]
    stored = {i["id"]: i for i in emulators.graph.incidents()}[graph]
    assert sorted(stored["customTags"]) == ["SIGNL4", "hook-a"]


def test_each_source_has_its_own_breakers_listed_and_enabled_by_name(
    emulators: EmulatorStack, receiver: WebhookReceiver
) -> None:
    """GET /api/ops/destinations lists every source's destinations; a non-default source's
    is enabled as <source>:<name>, and only that source's breaker changes."""
    configure(emulators, receiver, delegated=True)
    ops = DestinationOps(root().forwarder, root().incident_fleet)
    request = InboundRequest("GET", {}, b"", datetime.now(UTC))
    listed = asyncio.run(ops.list(request)).body
    names = sorted((d["source"], d["name"]) for d in listed["destinations"])
    assert ("defender", "defender:SIGNL4") in names
    assert ("default", "SIGNL4") in names
    assert ("customer-b", "customer-b:hook-a") in names
    fleet = root().incident_fleet()
    graph_state = fleet.for_source("defender").state
    broken = Breaker(disabled_at=datetime.now(UTC))
    asyncio.run(graph_state.save_breaker("SIGNL4", broken))

    async def enable(name: str) -> int:
        return (await ops.enable(name)(request)).status

    assert asyncio.run(enable("defender:SIGNL4")) == 200
    assert not asyncio.run(graph_state.breaker("SIGNL4")).disabled
    with pytest.raises(NotFound):
        asyncio.run(enable("nobody:SIGNL4"))


def test_a_subscription_nearly_out_of_arm_reads_waits_for_the_next_tick(
    emulators: EmulatorStack, receiver: WebhookReceiver
) -> None:
    """ARM says 10 reads are left in a subscription: the poll that saw it stops after its
    page, and the next tick skips that subscription's sources instead of spending the
    rest; sources elsewhere (Graph, another tenant's subscription) go on."""
    sources = configure(emulators, receiver, delegated=True)
    _, theirs, graph = seed_three(emulators, sources)
    emulators.sentinel.set_ratelimit_remaining(reads=11)
    first = poll_all()
    assert first["default"].remaining_reads == 10
    assert first["customer-b"].complete
    assert first["defender"].complete
    lists = emulators.sentinel.calls("list")
    second = poll_all()
    assert "ARM reads nearly exhausted (10 left)" in second["default"].reason
    assert emulators.sentinel.calls("list") == lists  # the default workspace was not read
    assert second["customer-b"].complete
    assert {f"customer-b:{theirs}", f"defender:{graph}"} <= {
        b["X-S4-ExternalID"] for b in received(emulators)
    }


def test_kibana_cases_go_to_the_sentinel_source_marked_for_them(
    emulators: EmulatorStack, receiver: WebhookReceiver
) -> None:
    """With "cases": true on the customer workspace, a Kibana case creates its incident
    there (never in Graph, which cannot create incidents), and its record is that
    source's, so later case calls find it."""
    from tests.functions.test_elastic_cases import AUTH_NAME, answer, request

    sources = configure(emulators, receiver, delegated=True)
    entries = [dict(e) for e in sources.settings]
    entries[1]["cases"] = True
    password = remember_secret(uuid.uuid4().hex)
    emulators.keyvault.set_secret(AUTH_NAME, f"kibana:{password}")
    use_settings(INCIDENT_SOURCES=json.dumps(entries))
    basic = "Basic " + base64.b64encode(f"kibana:{password}".encode()).decode()
    created = request("POST", "", parsed("kibana_cases_create_request.json"), authorization=basic)
    assert created.status_code == 200
    name = answer(created)["id"]
    assert [i["name"] for i in sources.customer.incidents.all()] == [name]
    assert emulators.sentinel.incidents() == []
    assert request("GET", f"/{name}", authorization=basic).status_code == 200
    case_id = asyncio.run(root().incidents().cases.case_of(name))
    assert case_id
    default_state = root().incident_fleet().for_source("default").state
    assert isinstance(default_state, TableIncidentState)
    assert asyncio.run(default_state.case_of(name)) is None  # recorded in customer-b's only
