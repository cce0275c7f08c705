"""Microsoft Graph security incidents seen as Sentinel incidents, and back (pure).

The bridge's incident domain (filters, versions, echoes, merges, payloads) reads the ARM
shape (``shared.incidents.domain.model``). A Graph ``microsoft.graph.security.incident``
is translated into that shape when read, and a PUT body the domain built is translated
into the ``PATCH /security/incidents/{id}`` body Graph takes (only status, assignedTo,
classification, determination and customTags are writable).

=================  =========================================  ============================
Sentinel           Graph (``incidentStatus``)                 back
=================  =========================================  ============================
New                active                                     active
Active             inProgress, awaitingAction                 inProgress
Closed             resolved, redirected (merged into another) resolved
=================  =========================================  ============================

Classifications (``alertClassification``): TruePositive = truePositive, FalsePositive =
falsePositive, BenignPositive = informationalExpectedActivity, Undetermined = unknown.
A close also sets ``determination``: ``other`` for a true, false or benign positive and
``unknown`` for Undetermined (the bridge has no finer reason to give).

Graph has no etag; the version is ``lastUpdateDateTime`` and the translated ``etag`` is
that time quoted, so the bridge's own writes are still recognised by their answer.
"""

from __future__ import annotations

import re
from typing import Any

from shared.errors import IncidentFormatError

PROVIDER = "Microsoft Defender XDR"
TO_SENTINEL_STATUS = {
    "active": "New",
    "inProgress": "Active",
    "awaitingAction": "Active",
    "resolved": "Closed",
    "redirected": "Closed",
}
TO_GRAPH_STATUS = {"New": "active", "Active": "inProgress", "Closed": "resolved"}
TO_SENTINEL_CLASSIFICATION = {
    "truePositive": "TruePositive",
    "falsePositive": "FalsePositive",
    "informationalExpectedActivity": "BenignPositive",
    "unknown": "Undetermined",
}
TO_GRAPH_CLASSIFICATION = {v: k for k, v in TO_SENTINEL_CLASSIFICATION.items()}
SEVERITIES = {"high": "High", "medium": "Medium", "low": "Low", "informational": "Informational"}
_TIME = re.compile(r"^(properties/lastModifiedTimeUtc) (ge|gt) (\S+)$")


def graph_filter(arm_filter: str | None) -> str | None:
    """The poller's ARM ``$filter`` (``properties/lastModifiedTimeUtc ge <time>``) in Graph's
    terms (``lastUpdateDateTime ge <time>``); None stays None.

    Raises:
        IncidentFormatError: a filter the translation does not know.
    """
    if arm_filter is None:
        return None
    match = _TIME.match(arm_filter.strip())
    if match is None:
        raise IncidentFormatError("only a lastModifiedTimeUtc filter translates to Graph")
    return f"lastUpdateDateTime {match[2]} {match[3]}"


def to_arm(graph: object) -> dict[str, Any]:
    """One Graph incident (alerts expanded or not) in the ARM incident shape.

    Raises:
        IncidentFormatError: no id, or no timestamps.
    """
    if not isinstance(graph, dict) or not isinstance(graph.get("id"), str):
        raise IncidentFormatError("a Graph incident needs an id")
    updated, created = graph.get("lastUpdateDateTime"), graph.get("createdDateTime")
    if not isinstance(updated, str) or not isinstance(created, str):
        raise IncidentFormatError("a Graph incident needs its times")
    incident_id = str(graph["id"])
    status = TO_SENTINEL_STATUS.get(str(graph.get("status")), "New")
    classification = TO_SENTINEL_CLASSIFICATION.get(str(graph.get("classification")))
    alerts = graph.get("alerts") if isinstance(graph.get("alerts"), list) else None
    comments = graph.get("comments") if isinstance(graph.get("comments"), list) else []
    additional: dict[str, Any] = {"commentsCount": len(comments or [])}
    if alerts is not None:
        additional["alertsCount"] = len(alerts)
        additional["alertProductNames"] = _unique(a.get("serviceSource") for a in alerts)
        additional["tactics"] = _unique(a.get("category") for a in alerts)
    properties: dict[str, Any] = {
        "title": graph.get("displayName") or "",
        "description": graph.get("description") or "",
        "severity": SEVERITIES.get(str(graph.get("severity")), "Informational"),
        "status": status,
        "classification": classification if status == "Closed" else None,
        "labels": [
            {"labelName": tag, "labelType": "User"}
            for tag in graph.get("customTags") or []
            if isinstance(tag, str)
        ],
        "createdTimeUtc": created,
        "lastModifiedTimeUtc": updated,
        "incidentUrl": graph.get("incidentWebUrl") or "",
        "incidentNumber": int(incident_id) if incident_id.isdigit() else None,
        "providerName": PROVIDER,
        "providerIncidentId": incident_id,
        "additionalData": additional,
    }
    owner = graph.get("assignedTo")
    if isinstance(owner, str) and owner:
        properties["owner"] = {"assignedTo": owner, "email": owner, "userPrincipalName": owner}
    return {"name": incident_id, "etag": f'"{updated}"', "properties": properties}


def patch_body(current: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """The Graph PATCH for an ARM PUT ``body`` the domain built from ``current`` (ARM
    shape): only what differs, in Graph's names."""
    now, then = body.get("properties") or {}, current.get("properties") or {}
    patch: dict[str, Any] = {}
    status = now.get("status")
    if status != then.get("status") and status in TO_GRAPH_STATUS:
        patch["status"] = TO_GRAPH_STATUS[status]
    classification = now.get("classification")
    if classification != then.get("classification") and classification in TO_GRAPH_CLASSIFICATION:
        patch["classification"] = TO_GRAPH_CLASSIFICATION[classification]
        patch["determination"] = "unknown" if classification == "Undetermined" else "other"
    tags = [label["labelName"] for label in now.get("labels") or [] if isinstance(label, dict)]
    if tags != [label["labelName"] for label in then.get("labels") or []]:
        patch["customTags"] = tags
    owner = now.get("owner") or {}
    assigned = owner.get("userPrincipalName") or owner.get("email") or owner.get("assignedTo")
    if assigned and assigned != (then.get("owner") or {}).get("userPrincipalName"):
        patch["assignedTo"] = assigned
    return patch


def alerts_of(graph: dict[str, Any]) -> dict[str, Any]:
    """The expanded alerts in the ``POST .../alerts`` answer's shape (``{"value": [...]}``)."""
    found = []
    for alert in graph.get("alerts") or []:
        if not isinstance(alert, dict):
            continue
        found.append(
            {
                "name": alert.get("id"),
                "properties": {
                    "alertDisplayName": alert.get("title"),
                    "severity": SEVERITIES.get(str(alert.get("severity")), "Informational"),
                    "productName": alert.get("serviceSource"),
                    "timeGenerated": alert.get("createdDateTime"),
                    "startTimeUtc": alert.get("firstActivityDateTime"),
                    "endTimeUtc": alert.get("lastActivityDateTime"),
                    "tactics": [alert["category"]] if alert.get("category") else [],
                    "techniques": list(alert.get("mitreTechniques") or []),
                },
            }
        )
    return {"value": found}


# evidence @odata.type -> (entity kind, the field that names it)
_EVIDENCE = {
    "#microsoft.graph.security.userEvidence": ("Account", ("userAccount", "userPrincipalName")),
    "#microsoft.graph.security.deviceEvidence": ("Host", ("deviceDnsName",)),
    "#microsoft.graph.security.ipEvidence": ("Ip", ("ipAddress",)),
    "#microsoft.graph.security.urlEvidence": ("Url", ("url",)),
    "#microsoft.graph.security.fileEvidence": ("File", ("fileDetails", "fileName")),
    "#microsoft.graph.security.processEvidence": ("Process", ("processCommandLine",)),
    "#microsoft.graph.security.mailboxEvidence": ("Mailbox", ("primaryAddress",)),
}
_ENTITY_FIELD = {"Account": "userPrincipalName", "Host": "fqdn", "Ip": "address", "Url": "url"}


def entities_of(graph: dict[str, Any]) -> dict[str, Any]:
    """The alerts' evidence in the ``POST .../entities`` answer's shape."""
    found = []
    for alert in graph.get("alerts") or []:
        for evidence in (alert.get("evidence") if isinstance(alert, dict) else None) or []:
            if not isinstance(evidence, dict):
                continue
            kind, path = _EVIDENCE.get(str(evidence.get("@odata.type")), ("", ()))
            value: Any = evidence
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            if kind and isinstance(value, str) and value:
                field = _ENTITY_FIELD.get(kind, "friendlyName")
                found.append({"kind": kind, "properties": {field: value}})
    return {"entities": found}


def comments_of(graph: dict[str, Any]) -> dict[str, Any]:
    """The incident's comments (``alertComment``) in the ``GET .../comments`` shape."""
    found = []
    for comment in graph.get("comments") or []:
        if isinstance(comment, dict) and isinstance(comment.get("comment"), str):
            found.append(
                {
                    # alertComment's names; the list example shows createdBy/createdTime.
                    "properties": {
                        "message": comment["comment"],
                        "createdTimeUtc": comment.get("createdDateTime")
                        or comment.get("createdTime"),
                        "author": {
                            "name": comment.get("createdByDisplayName") or comment.get("createdBy")
                        },
                    }
                }
            )
    return {"value": found}


def _unique(values: Any) -> list[str]:
    found: list[str] = []
    for value in values:
        if isinstance(value, str) and value and value not in found:
            found.append(value)
    return found
