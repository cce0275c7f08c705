"""Kibana's case connector against the Sentinel emulator: the full lifecycle, retried."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import Callable
from functools import cache
from typing import Any

import azure.functions as func
import pytest

from blueprints.elastic_cases import blueprint
from local.emulators.faults import Fault
from local.emulators.stack import EmulatorStack
from shared.bootstrap import root
from shared.cases import mapping, service
from shared.incidents.domain.model import Incident
from tests.azure_fixtures import fresh_root, use_settings
from tests.logscan import remember_secret
from tests.payloads import parsed

AUTH_NAME = "elastic-webhook-auth"
CASE_ID = "c4a1b2d3-0000-4000-8000-000000000001"
Call = Callable[..., func.HttpResponse]


@cache
def handlers() -> dict[str, Callable[..., Any]]:
    """The blueprint's functions, indexed in an app of their own."""
    app = func.FunctionApp()
    app.register_functions(blueprint)
    return {str(f.get_function_name()): f.get_user_function() for f in app.get_functions()}


@pytest.fixture
def basic(app_env: dict[str, str], emulators: EmulatorStack) -> str:
    """Kibana's Basic credentials, in the vault as ``user:password``; a clean workspace."""
    emulators.sentinel.reset()
    password = remember_secret(uuid.uuid4().hex)
    emulators.keyvault.set_secret(AUTH_NAME, f"kibana:{password}")
    fresh_root()
    return "Basic " + base64.b64encode(f"kibana:{password}".encode()).decode()


def request(
    method: str,
    path: str,
    body: Any = None,
    *,
    authorization: str | None,
    raw: bytes | None = None,
) -> func.HttpResponse:
    """Call ``/api/elastic/cases{path}`` as the host would, with Kibana's headers."""
    parts = path.strip("/").split("/") if path else []
    name = {0: "elastic_cases_create", 1: "elastic_cases_incident", 2: "elastic_cases_comment"}
    headers = {"content-type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    req = func.HttpRequest(
        method=method,
        url=f"http://localhost:7071/api/elastic/cases{path}",
        headers=headers,
        params={},
        route_params={"id": parts[0]} if parts else {},
        body=data,
    )
    response = asyncio.run(handlers()[name[len(parts)]](req))
    assert isinstance(response, func.HttpResponse)
    assert response.mimetype == "application/json"
    return response


def answer(response: func.HttpResponse) -> Any:
    return json.loads(response.get_body())


def stored(emulators: EmulatorStack, name: str) -> dict[str, Any]:
    found = next(i for i in emulators.sentinel.incidents() if i["name"] == name)
    properties: dict[str, Any] = found["properties"]
    return properties


def label_names(props: dict[str, Any]) -> list[str]:
    return [label["labelName"] for label in props["labels"]]


def test_kibana_case_lifecycle_with_every_call_retried(
    emulators: EmulatorStack, basic: str
) -> None:
    """Create, get, update, comment and close, each sent twice: one incident, one comment."""
    create = parsed("kibana_cases_create_request.json")
    first = request("POST", "", create, authorization=basic)
    again = request("POST", "", create, authorization=basic)
    assert first.status_code == again.status_code == 200
    assert answer(first) == answer(again)
    name = answer(first)["id"]
    assert name == mapping.incident_name(CASE_ID)
    assert answer(first)["title"] == "Suspicious sign-in burst"
    assert len(emulators.sentinel.incidents()) == 1
    props = stored(emulators, name)
    assert (props["status"], props["severity"]) == ("New", "High")
    assert label_names(props) == ["fig", "sentinel"]

    for _ in "ab":
        got = request("GET", f"/{name}", authorization=basic)
        assert (got.status_code, answer(got)["title"]) == (200, "Suspicious sign-in burst")

    update = {**parsed("kibana_cases_update_request.json"), "id": name}
    assert request("PUT", f"/{name}", update, authorization=basic).status_code == 200
    puts = emulators.sentinel.calls("put")
    repeated = request("PUT", f"/{name}", update, authorization=basic)
    assert (repeated.status_code, emulators.sentinel.calls("put")) == (200, puts)
    props = stored(emulators, name)
    assert (props["status"], props["severity"]) == ("Active", "High")
    assert props["description"] == "Updated description"
    assert label_names(props) == ["fig", "sentinel", "escalated"]

    comment = {**parsed("kibana_cases_comment_request.json"), "incidentId": name}
    replies = [request("PUT", f"/{name}/comment", comment, authorization=basic) for _ in "ab"]
    assert [r.status_code for r in replies] == [200, 200]
    assert answer(replies[0]) == answer(replies[1])
    [stored_comment] = emulators.sentinel.comments(name)
    assert stored_comment["properties"]["message"] == comment["body"]

    close = {**update, "status": "closed"}
    for _ in "ab":
        assert request("PUT", f"/{name}", close, authorization=basic).status_code == 200
    props = stored(emulators, name)
    assert (props["status"], props["classification"]) == ("Closed", "Undetermined")


def test_an_analysts_owner_and_labels_survive_updates_of_a_closed_incident(
    emulators: EmulatorStack, basic: str
) -> None:
    """Kibana's title change on a closed incident keeps owner, labels and classification."""
    created = request("POST", "", parsed("kibana_cases_create_request.json"), authorization=basic)
    name = answer(created)["id"]
    owner = {"objectId": str(uuid.uuid4()), "email": "ana@example.com", "assignedTo": "Ana"}
    emulators.sentinel.update_incident(
        name,
        status="Closed",
        classification="TruePositive",
        classificationReason="SuspiciousActivity",
        owner=owner,
        labels=["fig", "sentinel", "Analyst verdict"],
    )
    update = {"title": "Renamed in Kibana", "status": "closed", "tags": ["fig"]}
    assert request("PUT", f"/{name}", update, authorization=basic).status_code == 200
    props = stored(emulators, name)
    assert props["title"] == "Renamed in Kibana"
    assert label_names(props) == ["fig", "sentinel", "Analyst verdict"]
    assert (props["owner"]["email"], props["owner"]["assignedTo"]) == ("ana@example.com", "Ana")
    assert (props["classification"], props["classificationReason"]) == (
        "TruePositive",
        "SuspiciousActivity",
    )


def test_a_create_whose_answer_was_lost_is_retried_into_the_same_incident(
    emulators: EmulatorStack, basic: str
) -> None:
    """ARM made the incident but its answer was lost: 503, and the retry finds it."""
    emulators.sentinel.faults.add(
        Fault(status=500, method="PUT", accept_then_fail=True, times=3, path_regex="/incidents/")
    )
    body = parsed("kibana_cases_create_request.json")
    lost = request("POST", "", body, authorization=basic)
    assert (lost.status_code, answer(lost)["error"]["code"]) == (503, "UpstreamUnavailable")
    assert "Retry-After" in lost.headers
    emulators.sentinel.faults.clear()
    retried = request("POST", "", body, authorization=basic)
    assert retried.status_code == 200
    assert [i["name"] for i in emulators.sentinel.incidents()] == [answer(retried)["id"]]


def test_a_comment_whose_answer_was_lost_is_written_once(
    emulators: EmulatorStack, basic: str
) -> None:
    """The retried comment rewrites the comment the lost call made."""
    name = answer(
        request("POST", "", parsed("kibana_cases_create_request.json"), authorization=basic)
    )["id"]
    emulators.sentinel.faults.add(
        Fault(status=500, method="PUT", accept_then_fail=True, times=3, path_regex="/comments/")
    )
    comment = {"body": "Contained; watching."}
    assert request("PUT", f"/{name}/comment", comment, authorization=basic).status_code == 503
    emulators.sentinel.faults.clear()
    assert request("PUT", f"/{name}/comment", comment, authorization=basic).status_code == 200
    assert len(emulators.sentinel.comments(name)) == 1


def test_a_stale_etag_is_merged_not_overwritten(emulators: EmulatorStack, basic: str) -> None:
    """An update from a stale read gets 409, reads again, and keeps the analyst's label."""
    name = answer(
        request("POST", "", parsed("kibana_cases_create_request.json"), authorization=basic)
    )["id"]
    stale = Incident.of(emulators.sentinel.incidents()[0])
    emulators.sentinel.update_incident(name, labels=["fig", "sentinel", "Triage"])
    api = root().case_deps().api()
    fields = mapping.CaseFields(severity="Low")
    written = asyncio.run(service.update(api, name, fields, current=stale))
    assert written.text("severity") == "Low"
    assert label_names(stored(emulators, name)) == ["fig", "sentinel", "Triage"]


def test_an_api_key_token_is_accepted(emulators: EmulatorStack, basic: str) -> None:
    """A token in the vault is presented as Authorization: ApiKey, as for alerts."""
    token = remember_secret(uuid.uuid4().hex)
    emulators.keyvault.set_secret(AUTH_NAME, token)
    fresh_root()
    body = parsed("kibana_cases_create_request.json")
    assert request("POST", "", body, authorization=f"ApiKey {token}").status_code == 200


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (None, 401),
        ("Basic " + base64.b64encode(b"kibana:wrong").decode(), 401),
        ("Bearer nonsense", 401),
    ],
)
def test_wrong_credentials_are_401_and_nothing_is_written(
    emulators: EmulatorStack, basic: str, authorization: str | None, status: int
) -> None:
    """Missing, wrong or other-scheme credentials: 401, Sentinel untouched."""
    response = request(
        "POST", "", parsed("kibana_cases_create_request.json"), authorization=authorization
    )
    assert (response.status_code, answer(response)["error"]["code"]) == (status, "Unauthorized")
    assert emulators.sentinel.calls() == 0


def test_the_routes_are_off_while_the_secret_is_absent(app_env: dict[str, str]) -> None:
    """No credentials in the vault: 404 on every route, as for Elastic alerts."""
    use_settings(ELASTIC_AUTH_NAME=f"absent-{uuid.uuid4().hex}")
    authorization = "Basic " + base64.b64encode(b"kibana:anything").decode()
    name = str(uuid.uuid4())
    for method, path in (("POST", ""), ("GET", f"/{name}"), ("PUT", f"/{name}/comment")):
        response = request(method, path, {"body": "x"}, authorization=authorization)
        assert response.status_code == 404


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"title": "unterminated', "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"title": "no case id"}', "kibanaCaseId"),
        (b'{"kibanaCaseId": "c1", "title": "t", "severity": "urgent"}', "severity"),
    ],
)
def test_a_bad_create_body_is_400_with_a_json_error(
    emulators: EmulatorStack, basic: str, raw: bytes, message: str
) -> None:
    """Malformed JSON or fields: 400 MalformedPayload naming the problem; nothing written."""
    response = request("POST", "", raw=raw, authorization=basic)
    error = answer(response)["error"]
    assert (response.status_code, error["code"]) == (400, "MalformedPayload")
    assert message in error["message"]
    assert emulators.sentinel.calls("put") == 0


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/{unknown}", None),
        ("PUT", "/{unknown}", {"title": "x"}),
        ("PUT", "/{unknown}/comment", {"body": "x"}),
        ("GET", "/not-a-guid", None),
        ("PUT", "/..%2F..%2Fetc/comment", {"body": "x"}),
    ],
)
def test_an_unknown_incident_is_404(
    emulators: EmulatorStack, basic: str, method: str, path: str, body: Any
) -> None:
    """A GUID Sentinel does not know, or anything that is not a GUID: 404."""
    response = request(method, path.format(unknown=uuid.uuid4()), body, authorization=basic)
    assert (response.status_code, answer(response)["error"]["code"]) == (404, "UnknownEventType")
    assert emulators.sentinel.incidents() == []


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "", "GET, PATCH, POST, PUT"),
        ("DELETE", "/{some}", "GET, PATCH, POST, PUT"),
        ("GET", "/{some}/comment", "PATCH, POST, PUT"),
    ],
)
def test_a_wrong_method_is_405_with_allow(
    emulators: EmulatorStack, basic: str, method: str, path: str, allow: str
) -> None:
    """Each route names the methods it takes, before credentials are read."""
    response = request(method, path.format(some=uuid.uuid4()), authorization=None)
    assert (response.status_code, response.headers["Allow"]) == (405, allow)
    assert answer(response)["error"]["code"] == "MethodNotAllowed"


def test_an_id_in_the_body_must_name_the_urls_incident(
    emulators: EmulatorStack, basic: str
) -> None:
    """An update whose id names another incident is refused before any write."""
    name = answer(
        request("POST", "", parsed("kibana_cases_create_request.json"), authorization=basic)
    )["id"]
    other = {"id": str(uuid.uuid4()), "title": "x"}
    assert request("PUT", f"/{name}", other, authorization=basic).status_code == 400
    assert stored(emulators, name)["title"] == "Suspicious sign-in burst"


def test_sentinel_unavailable_is_503_with_retry_after(emulators: EmulatorStack, basic: str) -> None:
    """ARM failing: 503 and Retry-After, so the push can be tried again."""
    created = request("POST", "", parsed("kibana_cases_create_request.json"), authorization=basic)
    emulators.sentinel.faults.add(Fault(status=503, path_regex="/incidents/"))
    response = request("GET", f"/{answer(created)['id']}", authorization=basic)
    assert (response.status_code, answer(response)["error"]["code"]) == (
        503,
        "UpstreamUnavailable",
    )
    assert "Retry-After" in response.headers
    emulators.sentinel.faults.clear()


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/{name}", None),
        ("PUT", "/{name}", {"title": "benign - ignore", "severity": "low", "status": "closed"}),
        ("PUT", "/{name}/comment", {"body": "nothing to see"}),
    ],
)
def test_an_incident_sentinel_made_itself_is_a_404_like_a_missing_one(
    emulators: EmulatorStack, basic: str, method: str, path: str, body: Any
) -> None:
    """The Kibana credential neither reads nor writes an incident no Kibana case created:
    the answer is byte for byte the one for a missing incident, and nothing changes."""
    foreign = emulators.sentinel.seed_incident(title="Real attack", status="New")
    name = foreign["name"]
    if body is not None and "title" in body:
        body = {**body, "id": name}
    if body is not None and "body" in body:
        body = {**body, "incidentId": name}
    response = request(method, path.format(name=name), body, authorization=basic)
    missing = request(method, path.format(name=uuid.uuid4()), body, authorization=basic)
    assert response.status_code == missing.status_code == 404
    assert response.get_body() == missing.get_body()
    assert stored(emulators, name)["title"] == "Real attack"
    assert stored(emulators, name)["status"] == "New"
    assert emulators.sentinel.comments(name) == []
    assert emulators.sentinel.calls("put") == 0


def test_a_case_incident_stays_reachable_after_the_bridge_restarts(
    emulators: EmulatorStack, basic: str
) -> None:
    """The record of a case's incident is kept in Table storage, not in the process."""
    created = request("POST", "", parsed("kibana_cases_create_request.json"), authorization=basic)
    name = answer(created)["id"]
    fresh_root()
    got = request("GET", f"/{name}", authorization=basic)
    assert (got.status_code, answer(got)["id"]) == (200, name)
