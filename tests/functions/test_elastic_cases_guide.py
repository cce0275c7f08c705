"""Elastic's Logic App configuration of Kibana's case connector, only URL and credential
changed, against the Sentinel emulator: the guide's exact objects, rendered as Kibana does."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import azure.functions as func
import pytest

from local.emulators.stack import EmulatorStack
from shared.cases import logicapp, mapping
from tests.azure_fixtures import fresh_root, use_settings
from tests.functions.test_elastic_cases import answer, basic, handlers, label_names, stored

__all__ = ["basic"]  # the fixture, shared with the bridge-native tests

# The guide's connector configuration, verbatim (Mustache triple braces included).
CREATE_OBJECT = (
    '{ "action": "create-incident", "case_id": {{{case.id}}}, "case_title": {{{case.title}}},'
    ' "case_severity": {{{case.severity}}}, "case_status": {{{case.status}}},'
    ' "case_description": {{{case.description}}}, "case_tags": {{{case.tags}}},'
    ' "elastic_url_base": "/app/security/cases/" }'
)
UPDATE_OBJECT = (
    '{ "action": "update-incident", "sentinel_incident_id": {{{external.system.id}}},'
    ' "case_id": {{{case.id}}}, "case_title": {{{case.title}}},'
    ' "case_severity": {{{case.severity}}}, "case_status": {{{case.status}}},'
    ' "case_description": {{{case.description}}}, "case_tags": {{{case.tags}}},'
    ' "elastic_url_base": "/app/security/cases/" }'
)
COMMENT_OBJECT = (
    '{ "action": "add-comment-to-incident", "case_comment": {{{case.comment}}},'
    ' "sentinel_incident_id": {{{external.system.id}}} }'
)
GET_URL_SUFFIX = "&sentinel_incident_id={{{external.system.id}}}"
CASE_ID = "9b1c2d3e-4f50-4a6b-8c7d-0e1f2a3b4c5d"
CASE: dict[str, Any] = {
    "case.id": CASE_ID,
    "case.title": "Lateral movement from web-01",
    "case.severity": "high",
    "case.status": "open",
    "case.description": "Opened from an Elastic Security alert.",
    "case.tags": ["elastic", "lateral-movement"],
    "case.comment": "Isolated web-01.",
}


def render(template: str, values: dict[str, Any]) -> str:
    """Kibana's rendering: every {{{var}}} is the value's JSON text."""
    return re.sub(r"\{\{\{([\w.]+)\}\}\}", lambda m: json.dumps(values[m.group(1)]), template)


def call(
    method: str, body: str | None = None, params: dict[str, str] | None = None, *, auth: str
) -> func.HttpResponse:
    """``/api/elastic/cases`` as the host calls it (the create URL serves every step)."""
    req = func.HttpRequest(
        method=method,
        url="http://localhost:7071/api/elastic/cases",
        headers={"content-type": "application/json", "Authorization": auth},
        params=params or {},
        route_params={},
        body=(body or "").encode(),
    )
    response = asyncio.run(handlers()["elastic_cases_create"](req))
    assert isinstance(response, func.HttpResponse)
    return response


def get_params(incident: str) -> dict[str, str]:
    """The query string of the guide's get-case URL (its Logic App parameters dropped)."""
    query = render(GET_URL_SUFFIX, {"external.system.id": incident}).lstrip("&")
    key, value = query.split("=", 1)
    return {key: json.loads(value)}


def case_links(emulators: EmulatorStack, name: str) -> list[str]:
    return [
        c["properties"]["message"]
        for c in emulators.sentinel.comments(name)
        if c["properties"]["message"].startswith(logicapp.CASE_LINK_PREFIX)
    ]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_the_guides_configuration_works_unchanged(
    emulators: EmulatorStack, basic: str, method: str
) -> None:
    """Create, get, update (POST to the create URL), comment: one incident, the case linked."""
    created = call(method, render(CREATE_OBJECT, CASE), auth=basic)
    assert created.status_code == 200
    name = answer(created)["sentinel_incident_id"]
    assert name == mapping.incident_name(CASE_ID)
    assert answer(created)["title"] == CASE["case.title"]
    props = stored(emulators, name)
    assert (props["status"], props["severity"]) == ("New", "High")
    assert label_names(props) == ["elastic", "lateral-movement"]
    assert case_links(emulators, name) == ["Kibana case: /app/security/cases/" + CASE_ID]

    got = call("GET", params=get_params(name), auth=basic)
    assert (got.status_code, answer(got)["title"]) == (200, CASE["case.title"])
    assert answer(got)["properties"]["title"] == CASE["case.title"]

    changed = {**CASE, "external.system.id": name, "case.status": "in-progress"}
    changed["case.title"] = "Lateral movement from web-01 and web-02"
    for _ in "ab":
        updated = call("POST", render(UPDATE_OBJECT, changed), auth=basic)
        assert (updated.status_code, answer(updated)["sentinel_incident_id"]) == (200, name)
    props = stored(emulators, name)
    assert (props["title"], props["status"]) == (changed["case.title"], "Active")

    commented = call("POST", render(COMMENT_OBJECT, changed), auth=basic)
    assert commented.status_code == 200
    messages = [c["properties"]["message"] for c in emulators.sentinel.comments(name)]
    assert sorted(messages) == sorted(["Isolated web-01.", *case_links(emulators, name)])
    assert len(emulators.sentinel.incidents()) == 1


def test_the_case_link_is_absolute_with_kibanas_base_url(
    emulators: EmulatorStack, basic: str
) -> None:
    """KIBANA_BASE_URL makes the link absolute; the analyst's title and labels are untouched."""
    use_settings(KIBANA_BASE_URL="https://kibana.example.com/")
    fresh_root()
    created = call("POST", render(CREATE_OBJECT, CASE), auth=basic)
    name = answer(created)["sentinel_incident_id"]
    assert case_links(emulators, name) == [
        "Kibana case: https://kibana.example.com/app/security/cases/" + CASE_ID
    ]
    assert stored(emulators, name)["title"] == CASE["case.title"]


def test_unknown_incidents_and_actions(emulators: EmulatorStack, basic: str) -> None:
    """An id that is no incident is 404; an unknown action or no id to GET is 400."""
    assert call("GET", params={"sentinel_incident_id": "nope"}, auth=basic).status_code == 404
    missing = {"sentinel_incident_id": mapping.incident_name("never-created")}
    assert call("GET", params=missing, auth=basic).status_code == 404
    assert call("GET", auth=basic).status_code == 400
    assert call("POST", '{"action": "delete-incident"}', auth=basic).status_code == 400
    assert emulators.sentinel.incidents() == []
