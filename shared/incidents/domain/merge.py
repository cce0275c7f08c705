"""Incident PUT bodies that lose nothing (pure).

``PUT .../incidents/{id}`` replaces the incident: an omitted owner or label list is wiped.
So every write starts from the incident as just read, re-sends title, description,
severity, status, classification, owner and labels, and carries the read ``etag``: a stale
one answers 409, after which the caller reads again and re-applies its :class:`Change`
(a three-way merge reduced to what the bridge changes: it only *adds* labels, and sets
owner and status only as a change asks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.incidents.domain.model import Incident

_KEPT = (
    "title",
    "description",
    "severity",
    "status",
    "classification",
    "classificationReason",
    "classificationComment",
    "firstActivityTimeUtc",
    "lastActivityTimeUtc",
)
_OWNER_KEYS = ("objectId", "email", "userPrincipalName", "assignedTo")


@dataclass(frozen=True)
class Change:
    """What the bridge wants to change on an incident.

    Attributes:
        add_labels: label names to add (kept if present).
        status: the new status, or None to keep it.
        owner: ``{"email", "userPrincipalName", ...}`` to assign, or None to keep it.
        classification: with ``status="Closed"``: the classification (and its comment).
        classification_comment: a comment stored with the classification.
    """

    add_labels: tuple[str, ...] = ()
    status: str | None = None
    owner: dict[str, str] | None = None
    classification: str | None = None
    classification_comment: str | None = None

    def needed(self, incident: Incident) -> bool:
        """Whether writing would change anything (a no-op is never written)."""
        if any(label not in incident.labels for label in self.add_labels):
            return True
        if self.status is not None and self.status != incident.text("status"):
            return True
        if self.owner is not None and not _same_owner(self.owner, incident.owner):
            return True
        return self.classification is not None and (
            self.classification != incident.properties.get("classification")
        )


def put_body(incident: Incident, change: Change) -> dict[str, Any]:
    """The PUT body: ``incident`` as read, with ``change`` applied; its etag included."""
    props = incident.properties
    properties: dict[str, Any] = {k: props[k] for k in _KEPT if props.get(k) is not None}
    labels = [
        {"labelName": label["labelName"], "labelType": label.get("labelType", "User")}
        for label in props.get("labels") or []
        if isinstance(label, dict) and isinstance(label.get("labelName"), str)
    ]
    present = {label["labelName"] for label in labels}
    labels += [{"labelName": n, "labelType": "User"} for n in change.add_labels if n not in present]
    properties["labels"] = labels
    owner = {k: v for k, v in incident.owner.items() if k in _OWNER_KEYS and v is not None}
    if change.owner is not None:
        owner = dict(change.owner)
    if owner:
        properties["owner"] = owner
    if change.status is not None:
        properties["status"] = change.status
    if change.classification is not None:
        properties["classification"] = change.classification
        properties["classificationComment"] = change.classification_comment
        properties.pop("classificationReason", None)
    body: dict[str, Any] = {"properties": properties}
    if incident.etag is not None:
        body["etag"] = incident.etag
    return body


def _same_owner(wanted: dict[str, str], current: dict[str, Any]) -> bool:
    return all(current.get(key) == value for key, value in wanted.items())
