"""Wallarm webhook notifications: a JSON array or NDJSON of notifications to WallarmEvents_CL.

Wallarm posts (or puts) every notification type in one envelope,
``{summary, description?, details: {client_name, cloud, notification_type, ...}}``,
snake_case, times in Unix seconds. The body is a JSON array (the default, and always for
test messages) or NDJSON, chosen in Wallarm's console; its Content-Type is undocumented,
so the body decides: a first non-space ``[`` is an array, anything else NDJSON. A line
that is not a JSON object rejects the whole request with its line number: Wallarm
retries, and nothing of a half-understood batch is ingested.

Columns follow Wallarm's own Logs Ingestion integration (``TimeGenerated, Vendor,
EventType, Severity, ClientName, Summary, Description, RequestId, RemoteAddr, Url,
RawData``), plus the bridge's ``EventId``, ``EventTime``, ``ReceivedTime`` and
``TruncatedColumns``, and ``IsTest`` (true only on the one row of a "Test integration").
``EventType`` is ``details.notification_type``.

Severity rule (also in docs/sources/wallarm.md): a security issue or vulnerability takes
its risk (critical and high High, medium Medium, low Low, info Informational); otherwise
the type's default in ``TYPE_SEVERITY``; unknown types are Informational.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shared.auth.header_token import HeaderTokenAuth, TokenPlace
from shared.errors import MalformedPayload, PayloadTooLarge
from shared.inbound.jsonbody import array_items, parse_json
from shared.inbound.request import InboundRequest
from shared.rows.eventid import event_id
from shared.rows.schema import TableSchema, load_table
from shared.rows.timepolicy import time_generated
from shared.sources.base import (
    BATCH_BODY_BYTES,
    DEFAULT_MAX_ITEMS,
    Parsed,
    SourceRoute,
    one_endpoint,
)
from shared.sources.media import check_json_media

if TYPE_CHECKING:
    pass

SOURCE_NAME = "wallarm"
TABLE = "WallarmEvents_CL"
VENDOR = "Wallarm"
TEST_PREFIX = "[Test message]"
LATEST_EPOCH = 253402300799  # 9999-12-31T23:59:59Z

# notification_type -> Severity when the notification carries no risk of its own.
TYPE_SEVERITY: Mapping[str, str] = {
    "new_hits": "Medium",
    "attacks_exceeded": "High",
    "ip_blocked": "Medium",
    "security_issue": "Medium",
    "vuln": "Medium",
    "vuln_high": "High",
    "vuln_medium": "Medium",
    "vuln_low": "Low",
    "api_structure_changed": "Informational",
    "new_scope_object_ips": "Informational",
    "create_user": "Informational",
    "update_user": "Informational",
    "delete_user": "Low",
    "delete_integration": "Low",
    "disable_integration": "Low",
    "integration_broken": "Low",
    "create_application": "Informational",
    "update_application": "Informational",
    "delete_application": "Informational",
    "rule_create": "Informational",
    "rule_update": "Informational",
    "rule_delete": "Informational",
    "trigger_create": "Informational",
    "trigger_update": "Informational",
    "trigger_delete": "Informational",
}
RISK_SEVERITY = {
    "critical": "High",
    "high": "High",
    "medium": "Medium",
    "low": "Low",
    "info": "Informational",
}

# Path lookups are data: (column or role, candidate paths); the first non-empty wins.
_HIT = ("details", "hit")
STRING_FIELDS: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...] = (
    ("Summary", (("summary",),)),
    ("Description", (("description",),)),
    ("ClientName", (("details", "client_name"),)),
    ("RequestId", ((*_HIT, "request_id"),)),
    ("RemoteAddr", ((*_HIT, "remote_addr4"), (*_HIT, "remote_addr6"), ("details", "ip"))),
    ("Url", (("details", "security_issue_link"), ("details", "vuln_link"))),
    ("Host", ((*_HIT, "host"), (*_HIT, "domain"))),
    ("Path", ((*_HIT, "path"),)),
    ("Risk", (("details", "security_issue", "risk"), ("details", "vuln", "threat"))),
)
TIME_FIELDS = ((*_HIT, "request_time"), (*_HIT, "create_time"))
COLUMNS_FROM_FIELDS = ("Summary", "Description", "ClientName", "RequestId", "RemoteAddr", "Url")


def table() -> TableSchema:
    """The table Wallarm notifications land in."""
    return load_table(TABLE)


def split_body(body: bytes, *, limit: int = DEFAULT_MAX_ITEMS) -> Iterator[tuple[str, Any]]:
    """The notifications in a body with where each was: a JSON array, or NDJSON, decoded
    one at a time (a batch is never held twice, as text and as values).

    Yields:
        ``(position, value)`` pairs: ``item <n>`` in an array, ``line <n>`` in NDJSON.

    Raises:
        MalformedPayload: the array is not JSON, a line is not JSON (named by number), or
            the body holds nothing.
        PayloadTooLarge: more than ``limit`` notifications (NDJSON: before any is parsed).
    """
    text = body.removeprefix(codecs.BOM_UTF8)
    if text.lstrip()[:1] == b"[":
        elements = array_items(text, limit=limit)
        yield from ((f"item {number}", item) for number, item in enumerate(elements, start=1))
        return
    if _more_lines_than(text, limit):
        raise PayloadTooLarge(f"More than {limit} notifications in one request.")
    found, start, number = False, 0, 0
    while start <= len(text):
        end = text.find(b"\n", start)
        end = len(text) if end == -1 else end
        line, start, number = text[start:end], end + 1, number + 1
        if not line.strip():
            continue
        try:
            value = parse_json(line)
        except MalformedPayload:
            raise MalformedPayload(
                f"NDJSON line {number} is not valid JSON; nothing was ingested."
            ) from None
        found = True
        yield f"line {number}", value
    if not found:
        raise MalformedPayload("The body is empty; expected a JSON array or NDJSON.")


def _more_lines_than(text: bytes, limit: int) -> bool:
    """Whether ``text`` has more than ``limit`` non-blank lines, without splitting it all
    (one split of a 16 MiB body into 300,000 lines holds the interpreter for ~0.1 s)."""
    if text.count(b"\n") < limit:  # fast: fewer line breaks than the limit
        return False
    found, start = 0, 0
    while start <= len(text):
        end = text.find(b"\n", start)
        end = len(text) if end == -1 else end
        if text[start:end].strip():
            found += 1
            if found > limit:
                return True
        start = end + 1
    return False


def normalize(notification: Any, position: str, received: datetime) -> dict[str, Any]:
    """Validate one notification and shape its ``WallarmEvents_CL`` row.

    Args:
        notification: the parsed element.
        position: where it was, for error messages (``item 2``, ``line 3``).
        received: when the bridge received it (aware UTC).

    Raises:
        MalformedPayload: not an object, no ``details.notification_type``, or a field of
            the wrong JSON kind (named by path, never by value).
    """
    details = notification.get("details") if isinstance(notification, dict) else None
    kind = details.get("notification_type") if isinstance(details, dict) else None
    if not isinstance(kind, str) or not kind:
        raise MalformedPayload(
            f"Notification at {position} has no details.notification_type string."
        )
    fields = {name: _first_string(notification, paths, position) for name, paths in STRING_FIELDS}
    event_time = _event_time(notification, position)
    values: dict[str, Any] = {name: fields[name] for name in COLUMNS_FROM_FIELDS}
    values.update(
        TimeGenerated=time_generated(event_time, received),
        EventTime=event_time,
        ReceivedTime=received,
        EventId=event_id(SOURCE_NAME, kind, notification),
        Vendor=VENDOR,
        EventType=kind,
        Severity=_severity(kind, fields["Risk"]),
        RawData=notification,
        IsTest=is_test(notification),
        TruncatedColumns=[],
    )
    if values["Url"] is None and fields["Host"] is not None:
        values["Url"] = fields["Host"] + (fields["Path"] or "")
    return table().shape_row(values)


def is_test(notification: Any) -> bool:
    """True for Wallarm's test messages (their summary starts with ``[Test message]``)."""
    summary = notification.get("summary") if isinstance(notification, dict) else None
    return isinstance(summary, str) and summary.startswith(TEST_PREFIX)


def _lookup(document: Any, path: Sequence[str]) -> Any:
    for key in path:
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    return document


def _first_string(notification: Any, paths: Sequence[Sequence[str]], position: str) -> str | None:
    for path in paths:
        value = _lookup(notification, path)
        if value is not None and not isinstance(value, str):
            raise MalformedPayload(f"Notification at {position}: {'.'.join(path)} is not text.")
        if value:
            return value
    return None


def _event_time(notification: Any, position: str) -> datetime | None:
    for path in TIME_FIELDS:
        value = _lookup(notification, path)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise MalformedPayload(f"Notification at {position}: {'.'.join(path)} is not a number.")
        if not 0 <= value <= LATEST_EPOCH:
            raise MalformedPayload(f"Notification at {position}: {'.'.join(path)} is out of range.")
        return datetime.fromtimestamp(value, UTC)
    return None


def _severity(kind: str, risk: str | None) -> str:
    if risk is not None and risk.lower() in RISK_SEVERITY:
        return RISK_SEVERITY[risk.lower()]
    return TYPE_SEVERITY.get(kind, "Informational")


ROUTE = SourceRoute(SOURCE_NAME, frozenset({"POST", "PUT"}), one_endpoint("/api/wallarm"))


class WallarmSource:
    """Wallarm as a webhook source (see ``shared.sources.base.Source``)."""

    name = SOURCE_NAME
    off_without_secret = True  # no token in the vault: /api/wallarm answers 404
    batch_body_bytes = BATCH_BODY_BYTES  # batches of hits: 1,000 are ~1.3 MB

    def __init__(
        self, *, token_header: str, token_name: str, max_items: int = DEFAULT_MAX_ITEMS
    ) -> None:
        """Take the header Wallarm's token comes in, the Key Vault secret holding it, and
        the most notifications one request may carry (``MAX_ROWS_PER_REQUEST``)."""
        self.authenticator = HeaderTokenAuth((TokenPlace(token_header),), token_name)
        self._max_items = max_items

    def table(self) -> TableSchema:
        """WallarmEvents_CL."""
        return table()

    def enabled_event_types(self) -> frozenset[str] | None:
        """All types: Wallarm's own triggers choose what is sent."""
        return None

    def parse(self, route: str, request: InboundRequest) -> Parsed:
        """Every notification in the body, one row each.

        A batch of only test messages ("Test integration") writes exactly one row, the
        first, with ``IsTest`` true, the way Wallarm's own integration shows its test in
        Sentinel; test messages mixed into a real batch are dropped.
        """
        check_json_media(request.headers)
        rows = [
            normalize(item, where, request.received)
            for where, item in split_body(request.body, limit=self._max_items)
        ]
        real = [row for row in rows if not row["IsTest"]]
        if rows and not real:
            return Parsed(rows=rows[:1], test_rows=True, event_types=[rows[0]["EventType"]])
        return Parsed(rows=real, event_types=sorted({row["EventType"] for row in real}))
