"""Incident property rules of the Sentinel emulator: enums, owner, labels, ARM errors.

Confirmed by the reference (payloads.md section 5): the enum values and the owner and label
shapes; 100 comments per incident and 30K characters per comment (sentinel-incidents.md
section 7). Assumed: closing needs a classification (XSOAR says so; the real message is
unknown); a wiped owner reads back as nulls with ownerType ``Unknown``; new labels get
labelType ``User``; the 400 code ``BadRequest``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

SEVERITIES = ("High", "Medium", "Low", "Informational")
STATUSES = ("New", "Active", "Closed")
CLASSIFICATIONS = ("Undetermined", "TruePositive", "BenignPositive", "FalsePositive")
REASONS = ("SuspiciousActivity", "SuspiciousButExpected", "IncorrectAlertLogic", "InaccurateData")
MAX_COMMENTS = 100
MAX_COMMENT_CHARS = 30_000
_OWNER_KEYS = ("objectId", "email", "userPrincipalName", "assignedTo")


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
