"""The Sentinel emulator's ``/_emulator/`` routes: seed, edit, read and configure over HTTP."""

from __future__ import annotations

import json
from typing import Any

import requests

from local.emulators import EmulatorStack


def admin(stack: EmulatorStack, method: str, path: str, body: object = None) -> requests.Response:
    url = f"{stack.arm_endpoint}/_emulator/{path}"
    data = None if body is None else json.dumps(body)
    headers = {"Content-Type": "application/json"}
    return requests.request(
        method, url, data=data, headers=headers, verify=str(stack.ca_path), timeout=5
    )


def test_seed_edit_and_list_incidents_over_http(stack: EmulatorStack) -> None:
    """A seeded incident is listed, an analyst edit renews its etag, unknown ids are 404."""
    seeded = admin(stack, "POST", "incidents", {"incident_id": "inc-1", "title": "Seeded"})
    assert seeded.status_code == 201
    incident: dict[str, Any] = seeded.json()
    assert incident["name"] == "inc-1"
    assert incident["properties"]["title"] == "Seeded"
    assert incident["properties"]["additionalData"]["alertsCount"] == 1

    edited = admin(stack, "PATCH", "incidents/inc-1", {"severity": "High"})
    assert edited.status_code == 200
    assert edited.json()["properties"]["severity"] == "High"
    assert edited.json()["etag"] != incident["etag"]
    listed = admin(stack, "GET", "incidents").json()["incidents"]
    assert [i["properties"]["severity"] for i in listed] == ["High"]
    assert admin(stack, "GET", "incidents/inc-1/comments").json() == {"comments": []}

    assert admin(stack, "PATCH", "incidents/nope", {"severity": "High"}).status_code == 404
    assert admin(stack, "GET", "incidents/nope/comments").status_code == 404
    assert admin(stack, "POST", "incidents", {"incident_id": "inc-1"}).status_code == 400
    assert admin(stack, "PATCH", "incidents/inc-1", {"severity": "Dire"}).status_code == 400
    assert admin(stack, "PATCH", "incidents/inc-1", [1]).status_code == 400


def test_config_switches_role_paging_and_counters(stack: EmulatorStack) -> None:
    """PATCH /config changes what the ARM side does and answers the stats."""
    answer = admin(
        stack,
        "PATCH",
        "config",
        {
            "role": "reader",
            "paging": "offset",
            "raw_next_link": True,
            "comments_bump_incident": True,
            "reads": 7,
        },
    )
    assert answer.status_code == 200
    assert answer.json()["role"] == "reader"
    assert answer.json()["remaining"]["reads"] == 7
    assert stack.sentinel.pager.mode == "offset"
    assert stack.sentinel.raw_next_link is True
    assert stack.sentinel.store.incidents.comments_bump_incident is True
    assert admin(stack, "GET", "stats").json()["incidents"] == 0

    assert admin(stack, "PATCH", "config", {"colour": "red"}).status_code == 400
    assert admin(stack, "PATCH", "config", {"paging": "random"}).status_code == 400
    assert admin(stack, "PATCH", "config", {"role": "owner"}).status_code == 400
    stack.sentinel.reset()
    assert stack.sentinel.role == "responder"
    assert stack.sentinel.raw_next_link is False
