"""SIGNL4 round trip: forward, acknowledge, close; the callback route's answers to bad input."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from functools import cache
from typing import Any

import azure.functions as func
import pytest

from blueprints.incidents import blueprint
from local.emulators.stack import EmulatorStack
from shared.bootstrap import root
from shared.incidents.model import Incident
from shared.incidents.state import pending_record
from tests.functions.incident_support import received, run_poll, seed
from tests.logscan import remember_secret
from tests.payloads import parsed

pytestmark = pytest.mark.usefixtures("incident_env")
TOKEN_NAME = "signl4-callback-token"


@cache
def handlers() -> dict[str, Callable[..., Any]]:
    """The blueprint's functions, indexed in an app of their own."""
    app = func.FunctionApp()
    app.register_functions(blueprint)
    return {str(f.get_function_name()): f.get_user_function() for f in app.get_functions()}


def call(token: str, body: bytes, method: str = "POST") -> func.HttpResponse:
    """POST /api/signl4/{token} as the host would."""
    request = func.HttpRequest(
        method=method,
        url=f"http://localhost:7071/api/signl4/{token}",
        headers={"Content-Type": "application/json"},
        params={},
        route_params={"token": token},
        body=body,
    )
    response = asyncio.run(handlers()["signl4_callback"](request))
    assert isinstance(response, func.HttpResponse)
    return response


@pytest.fixture
def token(emulators: EmulatorStack) -> str:
    """The callback token, in the vault."""
    value = remember_secret(uuid.uuid4().hex + uuid.uuid4().hex)
    emulators.keyvault.set_secret(TOKEN_NAME, value)
    return value


def event(sample: str, incident: str, *, event_id: str | None = None) -> bytes:
    """A reference SIGNL4 event about ``incident``."""
    document = parsed(sample)
    document["alert"]["externalEventId"] = incident
    document["id"] = event_id or str(uuid.uuid4())
    return json.dumps(document).encode()


def stored(emulators: EmulatorStack, name: str) -> dict[str, Any]:
    props: dict[str, Any] = next(i for i in emulators.sentinel.incidents() if i["name"] == name)[
        "properties"
    ]
    return props


def test_forward_acknowledge_close_ends_right_with_one_comment_each(
    emulators: EmulatorStack, token: str
) -> None:
    """Status, owner, classification and exactly one comment per event, despite redelivery."""
    incident = seed(emulators, title="round trip")
    name = incident["name"]
    run_poll(root().forwarder())
    ack = event("signl4_outbound_signl_acknowledged.json", name)
    for _ in range(2):
        assert call(token, ack).status_code == 200
    props = stored(emulators, name)
    assert props["status"] == "Active"
    assert props["owner"]["email"] == props["owner"]["userPrincipalName"] == "rene@signl4.com"
    close = event("signl4_outbound_signl_closed.json", name)
    for _ in range(2):
        assert call(token, close).status_code == 200
    props = stored(emulators, name)
    assert (props["status"], props["classification"]) == ("Closed", "Undetermined")
    assert props["labels"][0]["labelName"] == "SIGNL4"
    comments = [c["properties"]["message"] for c in emulators.sentinel.comments(name)]
    assert comments == ["Acknowledged in SIGNL4 by Rene.", "Closed in SIGNL4 by Rene."]
    later = run_poll(root().forwarder())
    assert later.actions == {"seen": 1}
    assert [b["X-S4-Status"] for b in received(emulators)] == ["new"]


def test_an_acknowledgement_racing_the_forward_record_is_applied(
    emulators: EmulatorStack, token: str
) -> None:
    """SIGNL4 has the alert but the poller has not finished recording it: the record stored
    before the send is enough for the acknowledgement to land."""
    incident = seed(emulators, title="fast responder")
    name = incident["name"]
    state = root().forwarder().state
    asyncio.run(state.save_forwarded(pending_record(Incident.of(incident), ("SIGNL4",))))
    ack = event("signl4_outbound_signl_acknowledged.json", name)
    assert call(token, ack).status_code == 200
    assert stored(emulators, name)["status"] == "Active"


def test_a_late_acknowledgement_does_not_reopen_a_closed_incident(
    emulators: EmulatorStack, token: str
) -> None:
    """Closed stays closed; the acknowledgement is still noted as a comment."""
    name = seed(emulators, title="late")["name"]
    run_poll(root().forwarder())
    call(token, event("signl4_outbound_signl_closed.json", name))
    call(token, event("signl4_outbound_signl_acknowledged.json", name))
    assert stored(emulators, name)["status"] == "Closed"
    assert len(emulators.sentinel.comments(name)) == 2


def test_an_annotation_becomes_a_comment(emulators: EmulatorStack, token: str) -> None:
    """Event 203 adds annotation.message as a comment; the status is untouched."""
    name = seed(emulators, title="noted")["name"]
    run_poll(root().forwarder())
    assert call(token, event("signl4_outbound_signl_annotated.json", name)).status_code == 200
    [comment] = emulators.sentinel.comments(name)
    assert comment["properties"]["message"].endswith("OK, I'll take care about it.")
    assert stored(emulators, name)["status"] == "New"


def test_the_hundredth_comment_is_the_last(emulators: EmulatorStack, token: str) -> None:
    """At Sentinel's 100 comments the event is applied but no comment is attempted."""
    name = seed(emulators, title="chatty")["name"]
    run_poll(root().forwarder())
    for number in range(100):
        asyncio.run(root().forwarder().api.put_comment(name, str(uuid.uuid4()), f"c{number}"))
    response = call(token, event("signl4_outbound_signl_annotated.json", name))
    assert json.loads(response.get_body())["comment"] is False
    assert len(emulators.sentinel.comments(name)) == 100


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b"[]", 400),
        (b'{"eventType": "201", "id": "x"}', 400),
        (b'{"eventType": 201, "id": "x", "alert": []}', 400),
    ],
)
def test_malformed_bodies_are_400(body: bytes, status: int, token: str) -> None:
    """Bodies that are not a SIGNL4 event are refused."""
    assert call(token, body).status_code == status


def test_a_wrong_token_is_401(token: str) -> None:
    """A token that is not the vault's is refused without saying why."""
    body = event("signl4_outbound_signl_acknowledged.json", "x")
    assert call("wrong-token", body).status_code == 401
    assert call("x" * 5000, body).status_code == 401


def test_without_a_token_in_the_vault_the_route_is_off(emulators: EmulatorStack) -> None:
    """No SIGNL4_CALLBACK_TOKEN_NAME secret: 404, as for a source that is not enabled."""
    emulators.keyvault.reset(forget_secrets=True)
    body = event("signl4_outbound_signl_acknowledged.json", "x")
    assert call("any-token-at-all", body).status_code == 404


def test_an_event_for_an_incident_never_forwarded_is_200_and_ignored(
    emulators: EmulatorStack, token: str
) -> None:
    """Nothing is written for an incident the bridge did not send."""
    name = seed(emulators, title="not ours", status="Active")["name"]
    response = call(token, event("signl4_outbound_signl_closed.json", name))
    assert response.status_code == 200
    assert json.loads(response.get_body()) == {"handled": False, "reason": "unknown incident"}
    assert stored(emulators, name)["status"] == "Active"
    assert emulators.sentinel.comments(name) == []


def test_other_methods_are_405(token: str) -> None:
    """Only POST."""
    assert call(token, b"", method="GET").status_code == 405


def test_every_callback_is_counted_for_bridge_health(token: str) -> None:
    """The pipeline counts the callback like a webhook: received, and refusals by reason."""
    counters = root().counters
    before = counters.totals(counters.current_window())
    call("wrong", event("signl4_outbound_signl_acknowledged.json", "x"))
    after = counters.totals(counters.current_window())

    def delta(counter: str) -> int:
        key = ("source", "signl4", counter)
        return after.get(key, 0) - before.get(key, 0)

    assert (delta("received"), delta("rejected:Unauthorized")) == (1, 1)
