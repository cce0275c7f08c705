"""Incident property rules of the Sentinel emulator: enums, owner, labels, ARM errors, shapes.

Confirmed by the reference (payloads.md section 5): the enum values and the owner and label
shapes; 100 comments per incident and 30K characters per comment (sentinel-incidents.md
section 7). Assumed: closing needs a classification (XSOAR says so; the real message is
unknown); a wiped owner reads back as nulls with ownerType ``Unknown``; new labels get
labelType ``User``; the 400 code ``BadRequest``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any

from local.emulators.sentinel_data import RESOURCE_TYPE, WorkspaceRef
from local.emulators.sentinel_filter import format_utc, parse_utc

SEVERITIES = ("High", "Medium", "Low", "Informational")
STATUSES = ("New", "Active", "Closed")
CLASSIFICATIONS = ("Undetermined", "TruePositive", "BenignPositive", "FalsePositive")
REASONS = ("SuspiciousActivity", "SuspiciousButExpected", "IncorrectAlertLogic", "InaccurateData")
MAX_COMMENTS = 100
MAX_COMMENT_CHARS = 30_000
_OWNER_KEYS = ("objectId", "email", "userPrincipalName", "assignedTo")
# What a PUT replaces (an omitted one is wiped), apart from owner, labels and description.
_REPLACED = (
    "title",
    "severity",
    "status",
    "classification",
    "classificationReason",
    "classificationComment",
)


class ArmError(Exception):
    """An ARM error answer: status, ``error.code`` and ``error.message``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def new_etag() -> str:
    """A fresh incident etag: a GUID inside double quotes, quotes included."""
    return f'"{uuid.uuid4()}"'


def owner_of(value: object) -> dict[str, Any]:
    if value is None:
        return {**dict.fromkeys(_OWNER_KEYS), "ownerType": "Unknown"}
    if not isinstance(value, Mapping):
        raise ArmError(400, "BadRequest", "properties.owner must be an object")
    owner = {key: value.get(key) for key in _OWNER_KEYS}
    owner["ownerType"] = value.get("ownerType") or ("User" if owner["objectId"] else "Unknown")
    return owner


def labels_of(
    value: object, previous: Sequence[Mapping[str, Any]], *, seeding: bool = False
) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ArmError(400, "BadRequest", "properties.labels must be an array")
    types = {label["labelName"]: label["labelType"] for label in previous}
    labels = []
    for item in value:
        name = item.get("labelName") if isinstance(item, Mapping) else item
        if not isinstance(name, str) or not name:
            raise ArmError(400, "BadRequest", "each label needs a labelName string")
        given = item.get("labelType") if seeding and isinstance(item, Mapping) else None
        labels.append({"labelName": name, "labelType": given or types.get(name, "User")})
    return labels


def _check_enum(properties: Mapping[str, Any], name: str, allowed: Sequence[str]) -> None:
    value = properties.get(name)
    if value is not None and value not in allowed:
        raise ArmError(400, "BadRequest", f"properties.{name} must be one of {list(allowed)}")


def validate_properties(properties: Mapping[str, Any]) -> None:
    """Check enums and the close rule of an incident's (new) properties.

    Raises:
        ArmError: 400 for an unknown enum value or a close without classification.
    """
    for name, allowed in (
        ("severity", SEVERITIES),
        ("status", STATUSES),
        ("classification", CLASSIFICATIONS),
        ("classificationReason", REASONS),
    ):
        _check_enum(properties, name, allowed)
    if properties.get("status") == "Closed" and not properties.get("classification"):
        # Assumption (XSOAR: "closing needs a classification"); the real message is unknown.
        raise ArmError(400, "BadRequest", "A classification is required to close an incident.")


# -- resources -------------------------------------------------------------------------------


def seed_properties(
    properties: Mapping[str, Any],
    workspace: WorkspaceRef,
    name: str,
    number: int,
    created: str,
    modified: str,
) -> dict[str, Any]:
    """A new incident's properties as an analytics rule fills them, ``properties`` first."""
    return {
        "lastModifiedTimeUtc": format_utc(parse_utc(modified)),
        "createdTimeUtc": format_utc(parse_utc(created)),
        "lastActivityTimeUtc": properties.get("lastActivityTimeUtc", created),
        "firstActivityTimeUtc": properties.get("firstActivityTimeUtc", created),
        "description": properties.get("description", ""),
        "title": properties.get("title", "Emulated incident"),
        "owner": owner_of(properties.get("owner")),
        "severity": properties.get("severity", "Medium"),
        "status": properties.get("status", "New"),
        "classification": properties.get("classification"),
        "classificationReason": properties.get("classificationReason"),
        "classificationComment": properties.get("classificationComment"),
        "incidentUrl": workspace.portal_url(name),
        "incidentNumber": number,
        "labels": labels_of(properties.get("labels"), [], seeding=True),
        "providerName": properties.get("providerName", "Azure Sentinel"),
        "providerIncidentId": str(number),
        "relatedAnalyticRuleIds": [workspace.alert_rule_id()],
        "additionalData": {
            "alertsCount": 0,
            "bookmarksCount": 0,
            "commentsCount": 0,
            "alertProductNames": [],
            "tactics": list(properties.get("tactics", ["InitialAccess"])),
        },
    }


def put_properties(body: object) -> tuple[Mapping[str, Any], object]:
    """The properties and the etag (None if absent) of a ``PUT /incidents/{id}`` body, checked.

    Raises:
        ArmError: 400 when the body has no properties, lacks a required one or breaks a rule.
    """
    if not isinstance(body, Mapping) or not isinstance(body.get("properties"), Mapping):
        raise ArmError(400, "BadRequest", "The body must be an object with properties.")
    incoming: Mapping[str, Any] = body["properties"]
    for required in ("title", "severity", "status"):
        if not isinstance(incoming.get(required), str) or not incoming[required]:
            raise ArmError(400, "BadRequest", f"properties.{required} is required.")
    validate_properties(incoming)
    return incoming, body.get("etag")


def replace_properties(props: MutableMapping[str, Any], incoming: Mapping[str, Any]) -> None:
    """Apply a PUT's properties to a stored incident's (not its etag or modified time)."""
    for key in _REPLACED:
        props[key] = incoming.get(key)
    props["description"] = incoming.get("description") or ""
    # The pitfall the app must avoid: an omitted owner or labels list is wiped.
    props["owner"] = owner_of(incoming.get("owner"))
    props["labels"] = labels_of(incoming.get("labels"), props["labels"])
    for key in ("firstActivityTimeUtc", "lastActivityTimeUtc"):
        if incoming.get(key):
            props[key] = incoming[key]


def comment_message(body: object) -> str:
    """The message of a comment PUT body.

    Raises:
        ArmError: 400 when it is missing, empty or too long.
    """
    properties = body.get("properties") if isinstance(body, Mapping) else None
    message = properties.get("message") if isinstance(properties, Mapping) else None
    if not isinstance(message, str) or not message:
        raise ArmError(400, "BadRequest", "properties.message is required.")
    if len(message) > MAX_COMMENT_CHARS:
        raise ArmError(
            400, "BadRequest", f"A comment is limited to {MAX_COMMENT_CHARS} characters."
        )
    return message


def new_comment(
    resource_id: str, comment_id: str, message: str, now: str, author: Mapping[str, Any]
) -> dict[str, Any]:
    """A new comment resource (its etag unquoted, as in the reference example)."""
    return {
        "id": resource_id,
        "name": comment_id,
        "type": f"{RESOURCE_TYPE}/comments",
        "etag": str(uuid.uuid4()),
        "properties": {
            "message": message,
            "createdTimeUtc": now,
            "lastModifiedTimeUtc": now,
            "author": dict(author),
        },
    }
