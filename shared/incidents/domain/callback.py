"""SIGNL4's outbound webhooks, read into what to write back to Sentinel (pure).

SIGNL4 signs nothing: the route's token is the gate. The events (payloads.md, section 4):

- ``eventType`` 201 with ``alert.statusCode`` 2: acknowledged: status Active, owner = the
  responder (``user.mailaddress`` as email and UPN), and a comment;
- 201 with statusCode 4: closed: status Closed with the configured classification and a
  comment;
- 203: annotated: ``annotation.message`` as a comment;
- anything else (created 200, escalated 202, duty 300-303): nothing to do.

``alert.externalEventId`` is what the bridge sent as ``X-S4-ExternalID``: the incident's
name; it reaches Table storage only as a safe key (``shared.rows.tablekeys``: a GUID as it
is, other text hashed, so an id such as ``a/b?c#d`` from another integration is simply an
incident the bridge never forwarded), and one that cannot be an id at all (control
characters, over 1024 characters) is refused (400). Each comment's id is derived from
SIGNL4's event ``id`` (and its type and status), so a redelivered event writes the same
comment again, not a second.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass

from shared.errors import InvalidKey, MalformedPayload
from shared.inbound.jsonbody import parse_json_object
from shared.rows.tablekeys import is_valid_id

ACKNOWLEDGED, CLOSED = 2, 4
STATUS_CHANGED, ANNOTATED = 201, 203
MAX_COMMENT_CHARS = 30_000
MAX_COMMENTS = 100
_NAMESPACE = uuid.UUID("6f1c3e0a-5a52-4c1e-9f0e-2f6a4f0b7d11")


class Kind(enum.Enum):
    """What a SIGNL4 event asks of Sentinel."""

    ACKNOWLEDGE = "acknowledge"
    CLOSE = "close"
    ANNOTATE = "annotate"
    NOTHING = "nothing"


@dataclass(frozen=True)
class Signl4Event:
    """One SIGNL4 event, read."""

    kind: Kind
    event_id: str
    incident: str
    user: str
    user_email: str
    annotation: str = ""

    @property
    def comment_id(self) -> str:
        """The Sentinel comment id for this event: the same on every redelivery."""
        return str(uuid.uuid5(_NAMESPACE, f"signl4:{self.event_id}:{self.kind.value}"))

    def comment(self) -> str:
        """The comment's text, within Sentinel's 30,000 characters."""
        who = self.user or self.user_email or "someone"
        if self.kind is Kind.ACKNOWLEDGE:
            text = f"Acknowledged in SIGNL4 by {who}."
        elif self.kind is Kind.CLOSE:
            text = f"Closed in SIGNL4 by {who}."
        else:
            text = f"SIGNL4 annotation by {who}: {self.annotation}"
        return fit_comment(text)


def fit_comment(text: str) -> str:
    """``text`` cut to Sentinel's comment limit (30,000 characters), marked when cut."""
    if len(text) <= MAX_COMMENT_CHARS:
        return text
    return text[: MAX_COMMENT_CHARS - 1] + "…"


def parse_event(body: bytes) -> Signl4Event:
    """Read one SIGNL4 webhook body.

    Raises:
        MalformedPayload: not JSON, not an object, or fields of the wrong type.
    """
    document = parse_json_object(body)  # the one parser: every hostile body is a 400
    event_type = document.get("eventType")
    event_id = document.get("id")
    if not isinstance(event_type, int) or isinstance(event_type, bool):
        raise MalformedPayload("eventType (a number) and id (a string) are required.")
    if not isinstance(event_id, str) or not event_id:
        raise MalformedPayload("eventType (a number) and id (a string) are required.")
    alert = document.get("alert", {})
    user = document.get("user", {})
    annotation = document.get("annotation", {})
    if not all(isinstance(part, dict) for part in (alert, user, annotation)):
        raise MalformedPayload("alert, user and annotation must be objects.")
    status = alert.get("statusCode")
    incident = alert.get("externalEventId", "")
    if (status is not None and not _is_int(status)) or not isinstance(incident, str):
        raise MalformedPayload("alert.statusCode must be a number, externalEventId a string.")
    if incident.strip() and not is_valid_id(incident.strip()):
        raise InvalidKey("alert.externalEventId is not an id (control characters or too long).")
    kind = _kind(event_type, status)
    message = annotation.get("message", "")
    if kind is Kind.ANNOTATE and (not isinstance(message, str) or not message):
        raise MalformedPayload("An annotation needs annotation.message.")
    return Signl4Event(
        kind=kind,
        event_id=event_id,
        incident=incident.strip(),
        user=_text(user.get("username")),
        user_email=_text(user.get("mailaddress")),
        annotation=message if isinstance(message, str) else "",
    )


def _kind(event_type: int, status: int | None) -> Kind:
    if event_type == STATUS_CHANGED and status == ACKNOWLEDGED:
        return Kind.ACKNOWLEDGE
    if event_type == STATUS_CHANGED and status == CLOSED:
        return Kind.CLOSE
    if event_type == ANNOTATED:
        return Kind.ANNOTATE
    return Kind.NOTHING


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""
