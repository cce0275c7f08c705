"""Reading and writing incidents and comments through azure-mgmt-securityinsight 1.0.0."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.securityinsight import SecurityInsights
from azure.mgmt.securityinsight.models import (
    Incident,
    IncidentComment,
    IncidentLabel,
    IncidentOwnerInfo,
)

from local.emulators import EmulatorStack
from local.emulators.sentinel_filter import parse_utc


def label_names(incident: Incident) -> list[str]:
    """The incident's label names, in order."""
    return [str(label.label_name) for label in incident.labels or []]


def owner_of(incident: Incident) -> IncidentOwnerInfo:
    """The incident's owner object (always present in the emulator's answers)."""
    owner = incident.owner
    assert isinstance(owner, IncidentOwnerInfo)
    return owner


def read_only(model: Incident | IncidentComment) -> dict[str, Any]:
    """Read-only fields (typed None by the 1.0.0 models) through as_dict()."""
    return dict(model.as_dict())  # type: ignore[no-untyped-call]


OWNER = {"objectId": "2046feea-040d-4a46-9e2b-91c2941bfa70", "assignedTo": "john doe"}


@pytest.fixture
def where(stack: EmulatorStack) -> tuple[str, str]:
    """The resource group and workspace every call names."""
    return stack.sentinel_resource_group, stack.sentinel_workspace_name


def test_get_returns_the_incident_without_provider_name(
    stack: EmulatorStack, client: SecurityInsights, where: tuple[str, str]
) -> None:
    """GET maps to the 1.0.0 model, which drops providerName the service sends."""
    seeded = stack.sentinel.seed_incident(title="x", labels=["Fig"], owner=OWNER)
    incident = client.incidents.get(*where, seeded["name"])
    assert (incident.name, incident.etag, incident.title) == (seeded["name"], seeded["etag"], "x")
    assert str(incident.etag)[0] == str(incident.etag)[-1] == '"'
    assert label_names(incident) == ["Fig"]
    assert owner_of(incident).assigned_to == "john doe"
    assert seeded["properties"]["providerName"] == "Azure Sentinel"
    assert not hasattr(incident, "provider_name")
    assert incident.additional_properties == {}


def test_unknown_incident_is_not_found(client: SecurityInsights, where: tuple[str, str]) -> None:
    """A GET of a missing incident raises ResourceNotFoundError."""
    with pytest.raises(ResourceNotFoundError):
        client.incidents.get(*where, "00000000-0000-0000-0000-000000000000")


def test_put_with_the_current_etag_updates_and_bumps_etag_and_time(
    stack: EmulatorStack, client: SecurityInsights, where: tuple[str, str]
) -> None:
    """A read-modify-write answers 200 with a new etag and a later lastModifiedTimeUtc."""
    seeded = stack.sentinel.seed_incident(title="x", labels=["Fig"], owner=OWNER)
    incident = client.incidents.get(*where, seeded["name"])
    incident.status = "Active"
    updated = client.incidents.create_or_update(*where, seeded["name"], incident)
    assert updated.status == "Active"
    assert updated.etag != incident.etag
    before = read_only(incident)["last_modified_time_utc"]
    assert read_only(updated)["last_modified_time_utc"] > before
    assert label_names(updated) == ["Fig"]


def test_a_stale_etag_is_a_409_resource_exists_error(
    stack: EmulatorStack, client: SecurityInsights, where: tuple[str, str]
) -> None:
    """After an analyst's edit, a PUT with the old etag raises ResourceExistsError."""
    seeded = stack.sentinel.seed_incident(title="x")
    incident = client.incidents.get(*where, seeded["name"])
    stack.sentinel.update_incident(seeded["name"], severity="High")
    incident.status = "Active"
    with pytest.raises(ResourceExistsError) as raised:
        client.incidents.create_or_update(*where, seeded["name"], incident)
    assert raised.value.status_code == 409
    assert "exists. Data was not saved" in str(raised.value.message)
    assert stack.sentinel.incidents()[0]["properties"]["status"] == "New"


def test_omitted_owner_and_labels_are_wiped(
    stack: EmulatorStack, client: SecurityInsights, where: tuple[str, str]
) -> None:
    """PUT replaces: a body without owner and labels clears them (the pitfall to avoid)."""
    seeded = stack.sentinel.seed_incident(title="x", labels=["Fig"], owner=OWNER)
    body = Incident(etag=seeded["etag"], title="x", severity="Medium", status="Active")
    updated = client.incidents.create_or_update(*where, seeded["name"], body)
    assert updated.labels == []
    assert owner_of(updated).object_id is None


def test_put_without_etag_overwrites(
    stack: EmulatorStack, client: SecurityInsights, where: tuple[str, str]
) -> None:
    """No etag in the body means last write wins (assumed), even after an analyst edit."""
    seeded = stack.sentinel.seed_incident(title="x")
    stack.sentinel.update_incident(seeded["name"], severity="High")
    labels = [IncidentLabel(label_name="SIGNL4")]
    owner = IncidentOwnerInfo(object_id=OWNER["objectId"])
    body = Incident(title="y", severity="Low", status="Active", labels=labels, owner=owner)
    updated = client.incidents.create_or_update(*where, seeded["name"], body)
    assert (updated.title, updated.severity) == ("y", "Low")
    assert owner_of(updated).object_id == owner.object_id
    assert [(label.label_name, label.label_type) for label in updated.labels or []] == [
        ("SIGNL4", "User")
    ]


def test_put_of_a_new_id_creates(
    stack: EmulatorStack, client: SecurityInsights, where: tuple[str, str]
) -> None:
    """A PUT to an unknown id creates the incident with the next number."""
    stack.sentinel.seed_incident(title="first")
    body = Incident(title="made by api", severity="Informational", status="New")
    created = client.incidents.create_or_update(
        *where, "11111111-2222-3333-4444-555555555555", body
    )
    fields = read_only(created)
    assert fields["incident_number"] == 2
    assert fields["created_time_utc"] == fields["last_modified_time_utc"]
    assert len(stack.sentinel.incidents()) == 2


def test_closing_needs_a_classification(
    stack: EmulatorStack, client: SecurityInsights, where: tuple[str, str]
) -> None:
    """Status Closed without classification is a 400; with one it closes."""
    seeded = stack.sentinel.seed_incident(title="x")
    body = Incident(etag=seeded["etag"], title="x", severity="Low", status="Closed")
    with pytest.raises(HttpResponseError) as raised:
        client.incidents.create_or_update(*where, seeded["name"], body)
    assert raised.value.status_code == 400
    body.classification, body.classification_reason = "FalsePositive", "InaccurateData"
    closed = client.incidents.create_or_update(*where, seeded["name"], body)
    assert (closed.status, closed.classification) == ("Closed", "FalsePositive")


def test_last_modified_is_strictly_increasing_within_one_tick(stack: EmulatorStack) -> None:
    """Edits in the same clock tick still get distinct, increasing lastModifiedTimeUtc."""
    seeded = stack.sentinel.seed_incident(title="x")
    stamps = [seeded["properties"]["lastModifiedTimeUtc"]]
    for _ in range(20):
        edited = stack.sentinel.update_incident(seeded["name"], severity="Low")
        stamps.append(edited["properties"]["lastModifiedTimeUtc"])
    instants = [parse_utc(stamp) for stamp in stamps]
    assert instants == sorted(set(instants))


def test_comments_are_idempotent_by_id(
    stack: EmulatorStack, client: SecurityInsights, where: tuple[str, str]
) -> None:
    """A second PUT of the same comment id updates it (200) instead of adding another."""
    seeded = stack.sentinel.seed_incident(title="x")
    ops = client.incident_comments
    first = ops.create_or_update(*where, seeded["name"], "c-1", IncidentComment(message="one"))
    again = ops.create_or_update(*where, seeded["name"], "c-1", IncidentComment(message="two"))
    assert (first.name, again.name, again.message) == ("c-1", "c-1", "two")
    assert read_only(again)["author"]["object_id"] == stack.identity.object_id
    listed = cast("Iterable[IncidentComment]", ops.list(*where, seeded["name"]))
    assert [c.message for c in listed] == ["two"]
    assert len(stack.sentinel.comments(seeded["name"])) == 1
    assert stack.sentinel.incidents()[0]["properties"]["additionalData"]["commentsCount"] == 1
    assert stack.sentinel.incidents()[0]["etag"] == seeded["etag"]


def test_comment_limits_are_enforced(
    stack: EmulatorStack, client: SecurityInsights, where: tuple[str, str]
) -> None:
    """A message over 30,000 characters and a 101st comment are refused with 400."""
    seeded = stack.sentinel.seed_incident(title="x")
    ops = client.incident_comments
    with pytest.raises(HttpResponseError) as too_long:
        ops.create_or_update(*where, seeded["name"], "big", IncidentComment(message="x" * 30_001))
    assert too_long.value.status_code == 400
    ops.create_or_update(*where, seeded["name"], "max", IncidentComment(message="x" * 30_000))
    for number in range(99):
        stack.sentinel.store.incidents.put_comment(
            seeded["name"], f"c{number}", {"properties": {"message": "m"}}, {}
        )
    with pytest.raises(HttpResponseError) as too_many:
        ops.create_or_update(*where, seeded["name"], "c-101", IncidentComment(message="m"))
    assert too_many.value.status_code == 400
    ops.create_or_update(*where, seeded["name"], "c0", IncidentComment(message="edit"))
    assert len(stack.sentinel.comments(seeded["name"])) == 100
