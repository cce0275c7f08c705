"""Elastic's Logic App configuration of Kibana's case connector, read as is (pure).

Elastic's Sentinel guide (its Logic Apps blog) configures Kibana's "Webhook - Case
Management" connector to post to two Logic Apps. Pointed at ``/api/elastic/cases`` with
only the URL and the credential changed, its bodies are dispatched by ``action``:

- ``create-incident``: ``case_id``, ``case_title``, ``case_severity``, ``case_status``,
  ``case_description``, ``case_tags``, ``elastic_url_base``;
- ``update-incident`` (the update Logic App's action; ``update-case`` is taken too): the
  same keys plus ``sentinel_incident_id`` ({{{external.system.id}}});
- ``add-comment-to-incident``: ``case_comment`` and ``sentinel_incident_id``.

The get-case step is ``GET <create URL>...&sentinel_incident_id={{{external.system.id}}}``.
Values mean what the bridge-native keys mean (``shared.cases.mapping``): severities
low/medium/high/critical, statuses open/in-progress/closed, tags added as labels.

The Kibana case URL is ``elastic_url_base`` + the case id, made absolute with
``KIBANA_BASE_URL`` when it is set; it is kept on the incident as one comment of its own
(a fixed comment id per incident, rewritten when the URL changes), so no field an analyst
uses (title, description, labels, owner) is touched by it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.cases.mapping import (
    COMMENT_NAMESPACE,
    MAX_CASE_ID_CHARS,
    CaseFields,
    NewCase,
    parse_create,
    parse_update,
)
from shared.errors import MalformedPayload, UnknownEventType
from shared.incidents.domain.callback import fit_comment
from shared.incidents.domain.model import Incident

CREATE = "create-incident"
UPDATES = frozenset({"update-incident", "update-case"})
COMMENT = "add-comment-to-incident"
INCIDENT_KEY = "sentinel_incident_id"
MAX_URL_CHARS = 2048
# The guide's keys -> the bridge-native keys shared.cases.mapping reads.
KEYS = (
    ("case_title", "title"),
    ("case_description", "description"),
    ("case_severity", "severity"),
    ("case_status", "status"),
    ("case_tags", "tags"),
)
CASE_LINK_PREFIX = "Kibana case: "
EXTERNAL_ID = "{{{external.system.id}}}"


@dataclass(frozen=True)
class GuideCreate:
    """``create-incident``: the case, and its Kibana URL (None without ``elastic_url_base``)."""

    case: NewCase
    case_url: str | None


@dataclass(frozen=True)
class GuideUpdate:
    """``update-incident``: the incident, the fields, and the case's Kibana URL."""

    incident: str
    fields: CaseFields
    case_url: str | None


@dataclass(frozen=True)
class GuideComment:
    """``add-comment-to-incident``: the incident and the comment's text."""

    incident: str
    text: str


GuideCall = GuideCreate | GuideUpdate | GuideComment


def is_guide_body(document: Mapping[str, Any]) -> bool:
    """Whether a body is in the guide's shape (it has an ``action``)."""
    return "action" in document


def parse_guide(document: Mapping[str, Any], kibana_base_url: str) -> GuideCall:
    """Read one of the guide's bodies, dispatched by ``action``.

    Raises:
        MalformedPayload: an unknown action, a missing or wrong-kind field.
        UnknownEventType: ``sentinel_incident_id`` is not an incident the bridge can name.
    """
    action = document.get("action")
    if action == CREATE:
        native = _native(document)
        native["kibanaCaseId"] = _case_id(document)
        case = parse_create(native)
        return GuideCreate(case, case_url(document, case.case_id, kibana_base_url))
    if action in UPDATES:
        incident = incident_of(document.get(INCIDENT_KEY))
        fields = parse_update(_native(document), incident)
        case_id = document.get("case_id")
        url = case_url(document, case_id, kibana_base_url) if isinstance(case_id, str) else None
        return GuideUpdate(incident, fields, url)
    if action == COMMENT:
        incident = incident_of(document.get(INCIDENT_KEY))
        text = document.get("case_comment")
        if not isinstance(text, str) or not text.strip():
            raise MalformedPayload("case_comment must be the comment ({{{case.comment}}}).")
        return GuideComment(incident, fit_comment(text))
    known = ", ".join(sorted({CREATE, COMMENT, *UPDATES}))
    raise MalformedPayload(f"action must be one of {known}.")


def incident_of(value: object) -> str:
    """The incident a ``sentinel_incident_id`` names (a GUID, lower case).

    Raises:
        MalformedPayload: missing or not a string.
        UnknownEventType: not a GUID, so no incident the bridge made (404).
    """
    if not isinstance(value, str) or not value.strip():
        raise MalformedPayload(
            INCIDENT_KEY + " must be the incident id ({{{external.system.id}}})."
        )
    try:
        parsed = uuid.UUID(value.strip())
    except ValueError:
        raise UnknownEventType("No such incident.") from None
    return str(parsed)


def case_url(document: Mapping[str, Any], case_id: str, kibana_base_url: str) -> str | None:
    """``elastic_url_base`` + the case id, absolute under ``kibana_base_url`` when set."""
    base = document.get("elastic_url_base")
    if base is None or base == "":
        return None
    if not isinstance(base, str):
        raise MalformedPayload("elastic_url_base must be a string.")
    url = base + case_id
    if kibana_base_url and not url.lower().startswith(("http://", "https://")):
        url = kibana_base_url.rstrip("/") + "/" + url.lstrip("/")
    if len(url) > MAX_URL_CHARS:
        raise MalformedPayload(f"The Kibana case URL is longer than {MAX_URL_CHARS} characters.")
    return url


def case_link_comment_id(incident: str) -> str:
    """The one comment on ``incident`` that holds its Kibana case URL."""
    return str(uuid.uuid5(COMMENT_NAMESPACE, f"{incident.lower()}:kibana-case-url"))


def case_link_text(url: str) -> str:
    """The case-link comment's text."""
    return CASE_LINK_PREFIX + url


def guide_view(incident: Incident) -> dict[str, Any]:
    """What the guide's steps read: ``sentinel_incident_id`` (create's response key) and
    the title under the keys a get-case step may name (``title``, ``incident_title``,
    ``sentinel_incident_title``, ``properties.title``)."""
    title = incident.text("title")
    return {
        INCIDENT_KEY: incident.name,
        "sentinel_incident_number": incident.number,
        "sentinel_incident_url": incident.text("incidentUrl"),
        "id": incident.name,
        "title": title,
        "incident_title": title,
        "sentinel_incident_title": title,
        "status": incident.text("status"),
        "severity": incident.text("severity"),
        "properties": {
            "title": title,
            "status": incident.text("status"),
            "severity": incident.text("severity"),
            "incidentNumber": incident.number,
            "incidentUrl": incident.text("incidentUrl"),
        },
    }


def _case_id(document: Mapping[str, Any]) -> str:
    case_id = document.get("case_id")
    if not isinstance(case_id, str) or not case_id.strip() or len(case_id) > MAX_CASE_ID_CHARS:
        raise MalformedPayload("case_id must be the case's id ({{{case.id}}}), a non-empty string.")
    return case_id.strip()


def _native(document: Mapping[str, Any]) -> dict[str, Any]:
    return {native: document[key] for key, native in KEYS if key in document}
