"""Kibana case bodies to Sentinel incidents and back, without a network."""

from __future__ import annotations

import asyncio
import copy
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.cases import mapping, service
from shared.cases.receive import is_incident_id
from shared.errors import (
    IncidentConflict,
    IncidentNotFound,
    MalformedPayload,
    RequestRejected,
    UpstreamUnavailable,
)
from shared.incidents.model import Incident
from tests.payloads import parsed

CASE_ID = "c4a1b2d3-0000-4000-8000-000000000001"


def incident(**properties: Any) -> Incident:
    """The reference incident (Active, owner, two labels) with ``properties`` changed."""
    raw = parsed("sentinel_incident_get_active_with_labels.json")
    raw["properties"].update(properties)
    return Incident.of(raw)


class FakeIncidents:
    """An in-memory IncidentApi for the calls the case service makes; records each call."""

    def __init__(self, *stored: dict[str, Any], conflicts: int = 0) -> None:
        self.stored = {raw["name"]: copy.deepcopy(raw) for raw in stored}
        self.comments: dict[tuple[str, str], str] = {}
        self.calls: list[str] = []
        self.conflicts = conflicts
        self.comment_limit = 100

    async def get(self, name: str) -> dict[str, Any]:
        self.calls.append("get")
        if name not in self.stored:
            raise IncidentNotFound("404", upstream_status=404)
        return copy.deepcopy(self.stored[name])

    async def put(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        self.calls.append("put")
        current = self.stored.get(name)
        if current is not None and (self.conflicts or body.get("etag") != current["etag"]):
            self.conflicts = max(0, self.conflicts - 1)
            raise IncidentConflict("409", upstream_status=409)
        now = datetime.now(UTC).isoformat()
        base = current or {"name": name, "properties": {"createdTimeUtc": now}}
        raw = {**base, "etag": f'"{uuid.uuid4()}"'}
        raw["properties"] = {**base["properties"], **body["properties"], "lastModifiedTimeUtc": now}
        self.stored[name] = raw
        return copy.deepcopy(raw)

    async def put_comment(self, name: str, comment_id: str, message: str) -> dict[str, Any]:
        self.calls.append("comment")
        if name not in self.stored:
            raise IncidentNotFound("404", upstream_status=404)
        if (name, comment_id) not in self.comments and len(self.comments) >= self.comment_limit:
            raise UpstreamUnavailable("400", upstream_status=400)
        self.comments[(name, comment_id)] = message
        return {"name": comment_id}


def test_severities_and_statuses_map_as_documented() -> None:
    """Severities low..critical -> Low/Medium/High/High; statuses -> New/Active/Closed."""
    found = [
        mapping.parse_update({"severity": s, "status": t}, "x")
        for s, t in (("low", "open"), ("medium", "in-progress"), ("high", "closed"))
    ]
    assert [(f.severity, f.status) for f in found] == [
        ("Low", "New"),
        ("Medium", "Active"),
        ("High", "Closed"),
    ]
    assert mapping.parse_update({"severity": "critical"}, "x").severity == "High"


def test_the_incident_name_is_a_stable_guid_per_case() -> None:
    """The same case id always names the same incident; another case another one."""
    name = mapping.incident_name(CASE_ID)
    assert name == mapping.incident_name(CASE_ID) != mapping.incident_name(CASE_ID + "x")
    assert is_incident_id(name)


def test_comment_ids_follow_incident_and_text() -> None:
    """Same incident and text: same id; any difference: another id."""
    one = mapping.comment_id("A-incident", "note")
    assert one == mapping.comment_id("a-incident", "note")
    assert one != mapping.comment_id("a-incident", "note ")
    assert one != mapping.comment_id("b-incident", "note")


def test_the_reference_create_body_reads_fully() -> None:
    """Kibana's rendered create body gives the case id and every mapped field."""
    case = mapping.parse_create(parsed("kibana_cases_create_request.json"))
    assert case.case_id == CASE_ID
    assert case.fields == mapping.CaseFields(
        title="Suspicious sign-in burst",
        description="Created from Kibana case; see alerts",
        severity="High",
        status="New",
        tags=("fig", "sentinel"),
    )


def test_a_minimal_create_gets_kibanas_defaults() -> None:
    """Only id and title: severity Low, status New, empty description, no labels."""
    case = mapping.parse_create({"kibanaCaseId": "c1", "title": "t", "severity": None})
    body = mapping.new_incident_body(case)
    assert body == {
        "properties": {
            "title": "t",
            "description": "",
            "severity": "Low",
            "status": "New",
            "labels": [],
        }
    }


def test_a_case_created_closed_carries_a_classification() -> None:
    """Sentinel refuses a close without one: Undetermined, with a comment."""
    case = mapping.parse_create({"kibanaCaseId": "c1", "title": "t", "status": "closed"})
    properties = mapping.new_incident_body(case)["properties"]
    assert (properties["status"], properties["classification"]) == ("Closed", "Undetermined")


@pytest.mark.parametrize(
    ("document", "named"),
    [
        ({"title": "t"}, "kibanaCaseId"),
        ({"kibanaCaseId": "", "title": "t"}, "kibanaCaseId"),
        ({"kibanaCaseId": 7, "title": "t"}, "kibanaCaseId"),
        ({"kibanaCaseId": "c"}, "title"),
        ({"kibanaCaseId": "c", "title": "  "}, "title"),
        ({"kibanaCaseId": "c", "title": "t", "status": "pending"}, "status"),
        ({"kibanaCaseId": "c", "title": "t", "tags": "fig"}, "tags"),
        ({"kibanaCaseId": "c", "title": "t", "description": ["x"]}, "description"),
    ],
)
def test_a_bad_create_names_the_field(document: dict[str, Any], named: str) -> None:
    """Each problem is a MalformedPayload whose message names the field, not its value."""
    with pytest.raises(MalformedPayload, match=named):
        mapping.parse_create(document)


def test_an_id_for_another_incident_is_refused() -> None:
    """An update or comment body naming another incident than the URL is a 400."""
    with pytest.raises(MalformedPayload, match="another incident"):
        mapping.parse_update({"id": "b"}, "a")
    with pytest.raises(MalformedPayload, match="another incident"):
        mapping.parse_comment({"incidentId": "b", "body": "x"}, "a")
    assert mapping.parse_comment({"incidentId": "A", "body": "x"}, "a") == "x"


def test_an_update_keeps_owner_labels_and_etag() -> None:
    """Title, severity, status change; owner, every label and the etag are re-sent; tags add."""
    current = incident()
    fields = mapping.parse_update(parsed("kibana_cases_update_request.json"), current.name)
    body = mapping.update_body(current, fields)
    assert body is not None
    props = body["properties"]
    assert body["etag"] == current.etag
    assert (props["title"], props["severity"], props["status"]) == (
        "Suspicious sign-in burst",
        "High",
        "Active",
    )
    assert props["owner"]["objectId"] == current.owner["objectId"]
    assert [label["labelName"] for label in props["labels"]] == [
        "Fig",
        "Brute force",
        "fig",
        "sentinel",
        "escalated",
    ]


def test_an_update_that_changes_nothing_is_not_written() -> None:
    """Fields equal to the incident's and tags already present: no body."""
    current = incident(title="Same", severity="High", status="Active")
    fields = mapping.CaseFields(title="Same", severity="High", status="Active", tags=("Fig",))
    assert mapping.update_body(current, fields) is None


def test_closing_keeps_an_analysts_classification() -> None:
    """A classification already set stays; only an unclassified incident gets Undetermined."""
    closing = mapping.CaseFields(status="Closed")
    fresh = mapping.update_body(incident(), closing)
    assert fresh is not None
    assert fresh["properties"]["classification"] == "Undetermined"
    judged = incident(
        classification="TruePositive", classificationReason="SuspiciousActivity", status="Active"
    )
    kept = mapping.update_body(judged, closing)
    assert kept is not None
    assert kept["properties"]["classification"] == "TruePositive"
    assert kept["properties"]["classificationReason"] == "SuspiciousActivity"


def test_the_view_has_what_kibana_reads() -> None:
    """id (createIncidentResponseKey) and title (getIncidentResponseExternalTitleKey)."""
    view = mapping.case_view(incident())
    assert view["id"] == "73e01a99-5cd7-4139-a149-9f2736ff2ab5"
    assert view["title"] == "My incident"
    assert view["incidentNumber"] == 3177
    json.dumps(view)


def test_a_long_comment_is_cut_to_sentinels_limit() -> None:
    """30,000 characters at most, marked when cut."""
    text = mapping.parse_comment({"body": "x" * 40_000}, "a")
    assert len(text) == 30_000
    assert text.endswith("…")


def test_a_repeated_create_makes_one_incident() -> None:
    """The second create finds the first's incident and writes nothing more."""
    api = FakeIncidents()
    case = mapping.parse_create(parsed("kibana_cases_create_request.json"))
    first = asyncio.run(service.create(api, case))
    second = asyncio.run(service.create(api, case))
    assert first.name == second.name == case.incident_name
    assert list(api.stored) == [case.incident_name]
    assert api.calls == ["get", "put", "get"]


def test_a_conflict_is_read_again_and_reapplied() -> None:
    """409 twice, then the write lands on a fresh read."""
    api = FakeIncidents(incident().raw, conflicts=2)
    written = asyncio.run(service.update(api, incident().name, mapping.CaseFields(title="New")))
    assert written.text("title") == "New"
    assert api.calls == ["get", "put", "get", "put", "get", "put"]


def test_endless_conflicts_give_up_as_unavailable() -> None:
    """After MAX_ATTEMPTS 409s the call fails as a 409 the sender may retry."""
    api = FakeIncidents(incident().raw, conflicts=service.MAX_ATTEMPTS)
    with pytest.raises(UpstreamUnavailable) as raised:
        asyncio.run(service.update(api, incident().name, mapping.CaseFields(title="New")))
    assert raised.value.upstream_status == 409


def test_a_repeated_comment_is_one_comment() -> None:
    """The same text twice on the same incident writes one comment id."""
    api = FakeIncidents(incident().raw)
    ids = {asyncio.run(service.comment(api, incident().name, "note")) for _ in "ab"}
    assert len(ids) == len(api.comments) == 1


def test_a_comment_sentinel_refuses_is_a_rejected_request() -> None:
    """ARM's 400 (over 100 comments) is the sender's problem, not an outage."""
    api = FakeIncidents(incident().raw)
    api.comment_limit = 0
    with pytest.raises(RequestRejected, match="100 comments"):
        asyncio.run(service.comment(api, incident().name, "note"))


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("73e01a99-5cd7-4139-a149-9f2736ff2ab5", True),
        ("73E01A99-5CD7-4139-A149-9F2736FF2AB5", True),
        ("{73e01a99-5cd7-4139-a149-9f2736ff2ab5}", False),
        ("73e01a995cd74139a1499f2736ff2ab5", False),
        ("../incidents", False),
        ("", False),
    ],
)
def test_only_canonical_guids_reach_arm(text: str, valid: bool) -> None:
    """Anything else in the URL is a 404 without a call (no path tricks into ARM)."""
    assert is_incident_id(text) is valid


def test_fields_sentinel_refuses_are_a_rejected_request() -> None:
    """ARM's 400 on the incident PUT (a value Sentinel does not take) is a 400, not a 503."""

    class Refusing(FakeIncidents):
        async def put(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
            raise UpstreamUnavailable("400", upstream_status=400)

    case = mapping.parse_create({"kibanaCaseId": "c1", "title": "t"})
    with pytest.raises(RequestRejected, match="refused the incident"):
        asyncio.run(service.create(Refusing(), case))


def test_values_kibana_renders_empty_count_as_absent() -> None:
    """Kibana sends "" for a case without severity or status: defaults, not a 400."""
    case = mapping.parse_create(
        {"kibanaCaseId": "c1", "title": "t", "severity": "", "status": "", "description": ""}
    )
    assert (case.fields.severity, case.fields.status) == ("Low", "New")
    assert mapping.parse_update({"severity": "", "status": ""}, "x") == mapping.CaseFields(
        description=None
    )
