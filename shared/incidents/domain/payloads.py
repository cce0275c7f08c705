"""What each destination is sent for an incident version (pure).

- SIGNL4's inbound webhook: a flat JSON object, ``Title`` and ``Message`` plus the
  ``X-S4-*`` control fields; ``X-S4-ExternalID`` is the incident's name (its GUID; for a
  source of ``INCIDENT_SOURCES`` other than ``default``, ``<source>:<name>``), which
  SIGNL4 echoes back as ``alert.externalEventId`` in its own webhooks, and
  ``X-S4-Status: resolved`` closes the alert when the incident is closed in Sentinel.
- Signed webhooks: Standard Webhooks' ``{type, timestamp, data}``; the ``webhook-id`` is
  derived from the incident and its version, so every retry and every re-listing of the
  same version carries the same id and receivers can de-duplicate.
"""

from __future__ import annotations

import hashlib
from typing import Any

from shared.incidents.domain.augment import Augmentation
from shared.incidents.domain.model import Incident

SOURCE_SYSTEM = "MicrosoftSentinel"
SERVICE = "Security"
MAX_SEARCH_CHARS = 4000
"""The SIGNL4 body's ``SearchResults`` text is cut here (the webhook gets the rows)."""
MAX_MESSAGE_CHARS = 4000
CREATED = "sentinel.incident.created"
UPDATED = "sentinel.incident.updated"
CLOSED = "sentinel.incident.closed"
SCHEMA_VERSION = 2
"""The destination event's schema version (docs/incidents.md, shared/openapi.json's
``IncidentEvent``): 2 carries the whole incident on every event."""


def event_type(incident: Incident, *, first: bool) -> str:
    """The webhook ``type`` of this version: created, closed or updated."""
    if incident.text("status") == "Closed":
        return CLOSED
    return CREATED if first else UPDATED


def webhook_id(incident: Incident, external_id: str | None = None) -> str:
    """``msg_`` + a hash of the incident's id (``external_id``: its source-qualified id) and
    version: stable across retries."""
    key = f"{(external_id or incident.name).lower()}|{incident.last_modified_text}"
    return "msg_" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def incident_data(
    incident: Incident,
    extra: Augmentation | None,
    *,
    source: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """The incident as destinations see it: plain fields, link, alerts and entities;
    ``source`` is the (id, kind) of the source it came from."""
    props = incident.properties
    data: dict[str, Any] = {
        "id": incident.name,
        "number": incident.number,
        "title": incident.text("title"),
        "description": incident.text("description"),
        "severity": incident.text("severity"),
        "status": incident.text("status"),
        "classification": props.get("classification"),
        "owner": incident.owner_name() or None,
        "labels": incident.labels,
        "link": incident.text("incidentUrl"),
        "createdTimeUtc": props.get("createdTimeUtc"),
        "lastModifiedTimeUtc": props.get("lastModifiedTimeUtc"),
        "firstActivityTimeUtc": props.get("firstActivityTimeUtc"),
        "lastActivityTimeUtc": props.get("lastActivityTimeUtc"),
        "schemaVersion": SCHEMA_VERSION,
        "providerName": props.get("providerName"),
        "providerIncidentId": props.get("providerIncidentId"),
        "tactics": list((props.get("additionalData") or {}).get("tactics") or []),
    }
    if source is not None:
        data["source"], data["sourceKind"] = source
    if extra is not None:
        data |= extra.as_json()
    return data


def webhook_body(
    incident: Incident,
    extra: Augmentation | None,
    *,
    first: bool,
    source: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """The Standard Webhooks payload ``{type, timestamp, data}``."""
    return {
        "type": event_type(incident, first=first),
        "timestamp": incident.last_modified_text,
        "data": incident_data(incident, extra, source=source),
    }


def signl4_body(
    incident: Incident,
    extra: Augmentation | None,
    *,
    external_id: str | None = None,
    system: str = "Sentinel",
) -> dict[str, Any]:
    """The SIGNL4 inbound-webhook body for this version (new, or resolved when closed);
    ``X-S4-ExternalID`` is ``external_id`` (the source-qualified id) or the name; ``system``
    names where the incident lives in the title (``Defender XDR`` for a Graph source)."""
    number = incident.number
    title = incident.text("title") or "Untitled incident"
    heading = f"[{system}] Incident {number}: {title}" if number is not None else title
    severity = incident.text("severity")
    lines = [f"Severity {severity}", incident.text("description")]
    body: dict[str, Any] = {
        "Title": heading,
        "Severity": severity,
        "Status": incident.text("status"),
        "Link": incident.text("incidentUrl"),
        "X-S4-Service": SERVICE,
        "X-S4-AlertingScenario": "single_ack",
        "X-S4-ExternalID": external_id or incident.name,
        "X-S4-SourceSystem": SOURCE_SYSTEM,
        "X-S4-Status": "resolved" if incident.text("status") == "Closed" else "new",
    }
    if incident.owner_name():
        body["Owner"] = incident.owner_name()
    if extra is not None:
        for key, values in (
            ("Accounts", extra.accounts),
            ("Hosts", extra.hosts),
            ("IPs", extra.ips),
            ("URLs", extra.urls),
        ):
            if values:
                body[key] = ", ".join(values)
                lines.append(f"{key}: {', '.join(values)}")
        names = [str(a["name"]) for a in extra.alerts if a.get("name")]
        if names:
            body["Alerts"] = "; ".join(names)
        # Linked items, as SIGNL4's own Sentinel integration shows them: products and
        # every entity's display name.
        if extra.products:
            body["Products"] = ", ".join(extra.products)
            lines.append(f"Products: {', '.join(extra.products)}")
        if extra.entities:
            shown = [f"{e['kind']}: {e['name']}" for e in extra.entities]
            more = f" (+{extra.entities_omitted} more)" if extra.entities_omitted else ""
            body["Entities"] = "; ".join(shown) + more
        found = search_summary(extra.alerts)
        if found:
            body["SearchResults"] = found
    message = "\n".join(line for line in lines if line)
    body["Message"] = message[:MAX_MESSAGE_CHARS]
    return body


def search_summary(alerts: tuple[dict[str, Any], ...]) -> str:
    """The rows behind each alert as one line of text (SIGNL4 shows flat fields)."""
    parts: list[str] = []
    for alert in alerts:
        found = alert.get("searchResults")
        if not isinstance(found, dict):
            continue
        name = alert.get("name") or alert.get("id") or "alert"
        if found.get("unavailable"):
            parts.append(f"{name}: no rows ({found['unavailable']})")
            continue
        rows = [
            ", ".join(f"{key}={value}" for key, value in row.items())
            for row in found.get("rows", [])
        ]
        more = "" if found.get("complete") else " (more not shown)"
        parts.append(f"{name}: {len(rows)} rows{more}: " + " / ".join(rows))
    return " | ".join(parts)[:MAX_SEARCH_CHARS]
