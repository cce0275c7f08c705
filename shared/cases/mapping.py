"""Kibana cases as Sentinel incidents, and back (pure: no I/O, no SDK).

Kibana's "Webhook - Case Management" connector renders every ``case.*`` value with
``JSON.stringify`` first, so the documented templates (docs/sources/elastic-cases.md) give
real JSON strings and arrays. What the bridge reads:

- create: ``kibanaCaseId`` (required: the incident's name is derived from it, so a create
  sent twice names the same incident), ``title`` (required), and optionally
  ``description``, ``severity``, ``status``, ``tags``;
- update: any of ``title``, ``description``, ``severity``, ``status``, ``tags`` (only the
  keys present are applied);
- comment: ``body`` (required).

An ``id`` or ``incidentId`` in an update or comment body must name the URL's incident.
Severities map low/medium/high/critical to Low/Medium/High/High and statuses
open/in-progress/closed to New/Active/Closed. Tags become labels, added and never
removed, so labels an analyst set survive every update.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from shared.errors import MalformedPayload
from shared.incidents.domain.callback import fit_comment
from shared.incidents.domain.merge import Change, put_body
from shared.incidents.domain.model import Incident

SEVERITIES = {"low": "Low", "medium": "Medium", "high": "High", "critical": "High"}
STATUSES = {"open": "New", "in-progress": "Active", "closed": "Closed"}
DEFAULT_SEVERITY = "low"  # Kibana's own default for a new case
DEFAULT_STATUS = "open"
CLOSE_CLASSIFICATION = "Undetermined"
CLOSE_COMMENT = "Closed from the Kibana case"
MAX_CASE_ID_CHARS = 256
MAX_TITLE_CHARS = 255
MAX_LABEL_CHARS = 256
# Fixed forever: changing either would give every existing case a new incident name.
INCIDENT_NAMESPACE = uuid.UUID("0f5d7a8e-2c1b-5e4f-9a36-7b1c2d3e4f50")
COMMENT_NAMESPACE = uuid.UUID("8b2e4c6a-1d3f-5a7b-9c0e-2f4a6b8c0d1e")


@dataclass(frozen=True)
class CaseFields:
    """The case fields a request carries, already mapped to Sentinel's values.

    ``None`` means "not in the request" (an update leaves that property as it is).
    """

    title: str | None = None
    description: str | None = None
    severity: str | None = None
    status: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class NewCase:
    """A create request: the Kibana case id and its fields."""

    case_id: str
    fields: CaseFields

    @property
    def incident_name(self) -> str:
        """The incident this case becomes (the same for every retry of the create)."""
        return incident_name(self.case_id)


def incident_name(case_id: str) -> str:
    """The incident name (a GUID) for Kibana case ``case_id``: uuid5 of a fixed namespace."""
    return str(uuid.uuid5(INCIDENT_NAMESPACE, case_id))


def comment_id(incident: str, text: str) -> str:
    """The Sentinel comment id for ``text`` on ``incident``: the same for every retry.

    Kibana sends no comment id, so the id is derived from the incident and the text; a
    second comment with exactly the same text on the same case is the same comment.
    """
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return str(uuid.uuid5(COMMENT_NAMESPACE, f"{incident.lower()}:{digest}"))


def parse_create(document: Mapping[str, Any]) -> NewCase:
    """Read a create body (``createIncidentJson`` rendered).

    Raises:
        MalformedPayload: ``kibanaCaseId`` or ``title`` missing, or a field of the wrong kind.
    """
    case_id = document.get("kibanaCaseId")
    if not isinstance(case_id, str) or not case_id.strip() or len(case_id) > MAX_CASE_ID_CHARS:
        raise MalformedPayload(
            "kibanaCaseId must be the case's id ({{{case.id}}}), a non-empty string."
        )
    if document.get("title") is None:
        raise MalformedPayload("title is required ({{{case.title}}}).")
    fields = _fields(document)
    defaults = replace(
        fields,
        description=fields.description or "",
        severity=fields.severity or SEVERITIES[DEFAULT_SEVERITY],
        status=fields.status or STATUSES[DEFAULT_STATUS],
    )
    return NewCase(case_id.strip(), defaults)


def parse_update(document: Mapping[str, Any], incident: str) -> CaseFields:
    """Read an update body (``updateIncidentJson`` rendered) for ``incident``.

    Raises:
        MalformedPayload: a field of the wrong kind, or an id naming another incident.
    """
    _check_same_incident(document, incident)
    return _fields(document)


def parse_comment(document: Mapping[str, Any], incident: str) -> str:
    """The comment text of a comment body, cut to Sentinel's 30,000 characters.

    Raises:
        MalformedPayload: no ``body`` string, or an id naming another incident.
    """
    _check_same_incident(document, incident)
    text = document.get("body")
    if not isinstance(text, str) or not text.strip():
        raise MalformedPayload("body must be the comment ({{{case.comment}}}), a non-empty string.")
    return fit_comment(text)


def new_incident_body(case: NewCase) -> dict[str, Any]:
    """The PUT body that creates the case's incident (no etag: it does not exist yet)."""
    fields = case.fields
    properties: dict[str, Any] = {
        "title": fields.title,
        "description": fields.description or "",
        "severity": fields.severity,
        "status": fields.status,
        "labels": [{"labelName": tag, "labelType": "User"} for tag in fields.tags],
    }
    if fields.status == "Closed":
        properties["classification"] = CLOSE_CLASSIFICATION
        properties["classificationComment"] = CLOSE_COMMENT
    return {"properties": properties}


def update_body(incident: Incident, fields: CaseFields) -> dict[str, Any] | None:
    """The PUT body applying ``fields`` to ``incident`` as read, or None if nothing changes.

    Starts from ``shared.incidents.domain.merge.put_body``, so owner, labels, classification and
    the read etag are carried over; tags are only added. Closing sets the classification
    ``Undetermined`` unless the incident already has one (an analyst's stays).
    """
    closing = fields.status == "Closed" and not incident.properties.get("classification")
    change = Change(
        add_labels=fields.tags,
        status=fields.status,
        classification=CLOSE_CLASSIFICATION if closing else None,
        classification_comment=CLOSE_COMMENT if closing else None,
    )
    overlay = {
        key: value
        for key, value in (
            ("title", fields.title),
            ("description", fields.description),
            ("severity", fields.severity),
        )
        if value is not None and value != incident.properties.get(key)
    }
    if not overlay and not change.needed(incident):
        return None
    body = put_body(incident, change)
    body["properties"].update(overlay)
    return body


def case_view(incident: Incident) -> dict[str, Any]:
    """What create, get and update answer: ``id`` and ``title`` are what Kibana reads."""
    return {
        "id": incident.name,
        "title": incident.text("title"),
        "status": incident.text("status"),
        "severity": incident.text("severity"),
        "incidentNumber": incident.number,
        "url": incident.text("incidentUrl"),
    }


def _fields(document: Mapping[str, Any]) -> CaseFields:
    title = _text(document, "title")
    if title is not None and (not title.strip() or len(title) > MAX_TITLE_CHARS):
        raise MalformedPayload(f"title must be 1 to {MAX_TITLE_CHARS} characters.")
    return CaseFields(
        title=title,
        description=_text(document, "description"),
        severity=_enum(document, "severity", SEVERITIES),
        status=_enum(document, "status", STATUSES),
        tags=_tags(document.get("tags")),
    )


def _text(document: Mapping[str, Any], key: str) -> str | None:
    value = document.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedPayload(f"{key} must be a string.")
    return value


def _enum(document: Mapping[str, Any], key: str, known: Mapping[str, str]) -> str | None:
    value = _text(document, key)
    if value is None or not value.strip():  # Kibana renders a missing value as ""
        return None
    mapped = known.get(value.strip().lower())
    if mapped is None:
        raise MalformedPayload(f"{key} must be one of {', '.join(known)}.")
    return mapped


def _tags(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise MalformedPayload("tags must be a list of strings ({{{case.tags}}}).")
    found: list[str] = []
    for tag in value:
        name = tag.strip()
        if len(name) > MAX_LABEL_CHARS:
            raise MalformedPayload(f"A tag is longer than {MAX_LABEL_CHARS} characters.")
        if name and name not in found:
            found.append(name)
    return tuple(found)


def _check_same_incident(document: Mapping[str, Any], incident: str) -> None:
    for key in ("id", "incidentId"):
        value = document.get(key)
        if value is not None and (not isinstance(value, str) or value.lower() != incident.lower()):
            raise MalformedPayload(f"{key} names another incident than the URL.")
