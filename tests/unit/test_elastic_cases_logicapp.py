"""Elastic's Logic App bodies read as the bridge-native ones (shared.cases.logicapp)."""

from __future__ import annotations

from typing import Any

import pytest

from shared.cases import logicapp, mapping
from shared.errors import MalformedPayload, UnknownEventType
from shared.incidents.domain.model import Incident

INCIDENT = mapping.incident_name("case-1")
CREATE: dict[str, Any] = {
    "action": "create-incident",
    "case_id": "case-1",
    "case_title": "T",
    "case_severity": "critical",
    "case_status": "closed",
    "case_description": "D",
    "case_tags": ["a", "a", "b"],
    "elastic_url_base": "/app/security/cases/",
}


def test_create_maps_the_guides_keys() -> None:
    """case_* keys mean what the native keys mean; the case link is relative by default."""
    call = logicapp.parse_guide(CREATE, "")
    assert isinstance(call, logicapp.GuideCreate)
    assert call.case.case_id == "case-1"
    fields = call.case.fields
    assert (fields.title, fields.severity, fields.status, fields.tags) == (
        "T",
        "High",
        "Closed",
        ("a", "b"),
    )
    assert call.case_url == "/app/security/cases/case-1"


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("https://kibana.example.com", "https://kibana.example.com/app/security/cases/case-1"),
        ("http://kibana:5601/", "http://kibana:5601/app/security/cases/case-1"),
    ],
)
def test_kibanas_base_url_makes_the_link_absolute(base: str, expected: str) -> None:
    """KIBANA_BASE_URL is joined with exactly one slash."""
    call = logicapp.parse_guide(CREATE, base)
    assert isinstance(call, logicapp.GuideCreate)
    assert call.case_url == expected


def test_update_and_comment_name_their_incident() -> None:
    """sentinel_incident_id names the incident; only present keys are applied."""
    upper = INCIDENT.upper()
    update = {"action": "update-incident", "sentinel_incident_id": upper, "case_status": "open"}
    call = logicapp.parse_guide(update, "")
    assert isinstance(call, logicapp.GuideUpdate)
    assert (call.incident, call.fields.status, call.fields.title, call.case_url) == (
        INCIDENT,
        "New",
        None,
        None,
    )
    comment = {"action": "add-comment-to-incident", "sentinel_incident_id": INCIDENT}
    call = logicapp.parse_guide({**comment, "case_comment": "hi"}, "")
    assert call == logicapp.GuideComment(INCIDENT, "hi")


@pytest.mark.parametrize(
    ("document", "error"),
    [
        ({"action": "close-incident"}, MalformedPayload),
        ({**CREATE, "case_id": ""}, MalformedPayload),
        ({**CREATE, "case_severity": "urgent"}, MalformedPayload),
        ({**CREATE, "elastic_url_base": 7}, MalformedPayload),
        ({"action": "update-incident"}, MalformedPayload),
        ({"action": "update-incident", "sentinel_incident_id": "42"}, UnknownEventType),
        ({"action": "add-comment-to-incident", "sentinel_incident_id": INCIDENT}, MalformedPayload),
    ],
)
def test_bad_bodies_are_refused(document: dict[str, Any], error: type[Exception]) -> None:
    """An unknown action or a wrong field is 400; an id that is no GUID is 404."""
    with pytest.raises(error):
        logicapp.parse_guide(document, "")


def test_the_answer_carries_the_response_key_and_title() -> None:
    """sentinel_incident_id is create's response key; the title is under every key used."""
    stamp = "2026-01-01T00:00:00Z"
    properties = {"title": "T", "incidentNumber": 3}
    properties |= {"createdTimeUtc": stamp, "lastModifiedTimeUtc": stamp}
    incident = Incident.of({"name": INCIDENT, "properties": properties})
    view = logicapp.guide_view(incident)
    assert view["sentinel_incident_id"] == INCIDENT
    assert view["title"] == view["incident_title"] == view["properties"]["title"] == "T"


def test_the_link_comment_id_is_fixed_per_incident() -> None:
    """One link comment per incident, rewritten when the URL changes."""
    assert logicapp.case_link_comment_id(INCIDENT) == logicapp.case_link_comment_id(
        INCIDENT.upper()
    )
