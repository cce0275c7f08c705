"""Elastic alerts from Kibana's Webhook connector to ElasticAlerts_CL, one row per alert.

Kibana posts whatever the action's Mustache template renders, with no Content-Type of
its own (older Kibana, through axios 0.x, declared a form), so the body is read as JSON
whatever is declared, unless the type plainly cannot be JSON text (415). Accepted bodies:

- one alert document;
- an array of them (``{{{alerts.new.data.asJSON}}}``);
- a summary object carrying them in ``alerts`` (the template in docs/sources/elastic-alerts.md),
  whose ``rule_name``, ``rule_id`` and ``rule_url``/``results_link`` fill gaps in the alerts;
- alert objects joined by commas, which is what ``{{{context.alerts}}}`` renders for
  several Elastic Security alerts.

A body with only a test marker and no alert field (the connector's Test tab in Elastic's
guide sends ``{"alert":{"id":"Test"}}``; ``{"test": true}`` is one too) is a test delivery:
200 ``"test": true``, no row, so no analytics rule can make it an incident.

Alert fields are read nested (``{"kibana": {"alert": ...}}``), dotted
(``"kibana.alert.uuid"``) or in a mix, with legacy ``signal.*`` as fallback.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.auth.basic import BasicOrTokenAuth
from shared.auth.header_token import TokenPlace
from shared.errors import MalformedPayload, PayloadTooLarge
from shared.inbound.jsonbody import array_items, parse_json
from shared.inbound.request import InboundRequest
from shared.rows.eventid import event_id
from shared.rows.schema import TableSchema, load_table
from shared.rows.timepolicy import time_generated, timestamp_or_none
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

SOURCE_NAME = "elastic"
TABLE = "ElasticAlerts_CL"
# axios 0.x (Kibana 7.x) declared this for string bodies; the body is JSON all the same.
LEGACY_FORM_TYPE = frozenset({"application/x-www-form-urlencoded"})
TOKEN_PLACES = (TokenPlace("authorization", "ApiKey"), TokenPlace("x-auth-token"))

STRING, NUMBER, STRINGS = "string", "number", "string or list of strings"
# (column, kind, dotted paths in the alert); the first present path wins.
FIELDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("AlertId", STRING, ("kibana.alert.uuid", "signal.id")),
    ("AlertStatus", STRING, ("kibana.alert.status",)),
    ("WorkflowStatus", STRING, ("kibana.alert.workflow_status", "signal.status")),
    ("RuleName", STRING, ("kibana.alert.rule.name", "signal.rule.name")),
    ("RuleId", STRING, ("kibana.alert.rule.uuid", "signal.rule.id")),
    ("RuleType", STRING, ("kibana.alert.rule.rule_type_id", "signal.rule.type")),
    ("ElasticSeverity", STRING, ("kibana.alert.severity", "signal.rule.severity")),
    ("RiskScore", NUMBER, ("kibana.alert.risk_score", "signal.rule.risk_score")),
    ("Reason", STRING, ("kibana.alert.reason", "signal.reason")),
    ("HostName", STRINGS, ("host.name", "host.hostname")),
    ("UserName", STRINGS, ("user.name",)),
    ("SourceIp", STRINGS, ("source.ip",)),
    ("DestinationIp", STRINGS, ("destination.ip",)),
    ("KibanaUrl", STRING, ("kibana.alert.url",)),
)
TIME_PATHS = (
    "kibana.alert.original_time",
    "signal.original_time",
    "kibana.alert.start",
    "@timestamp",
)
# A document is an alert when it has one of these.
ALERT_MARKERS = ("kibana.alert.uuid", "kibana.alert.rule.name", "signal.rule.id", "signal.id")
# Summary keys that fill a column the alert leaves empty: (column, summary key).
SUMMARY_FALLBACKS = (
    ("RuleName", "rule_name"),
    ("RuleId", "rule_id"),
    ("KibanaUrl", "rule_url"),
    ("KibanaUrl", "results_link"),
)
SEVERITY = {"low": "Low", "medium": "Medium", "high": "High", "critical": "High"}


def table() -> TableSchema:
    """The table Elastic alerts land in."""
    return load_table(TABLE)


def lookup(document: Any, dotted: str) -> Any:
    """The value at ``dotted`` in a nested, dotted-key or mixed document, or None."""
    if not isinstance(document, dict):
        return None
    if dotted in document:
        return document[dotted]
    parts = dotted.split(".")
    for split in range(1, len(parts)):
        found = lookup(document.get(".".join(parts[:split])), ".".join(parts[split:]))
        if found is not None:
            return found
    return None


def read_body(
    body: bytes, *, limit: int = DEFAULT_MAX_ITEMS
) -> tuple[list[Any], Mapping[str, Any]]:
    """The alert documents in a body, and the summary object around them (or ``{}``).

    Raises:
        MalformedPayload: not JSON (nor comma-joined objects), or an empty body.
        PayloadTooLarge: more than ``limit`` alerts (an array is counted as it is read).
    """
    if body.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] == b"[":
        return list(array_items(body, limit=limit)), {}
    alerts, summary = _read_document(body)
    if len(alerts) > limit:
        raise PayloadTooLarge(f"More than {limit} alerts in one request.")
    return alerts, summary


def _read_document(body: bytes) -> tuple[list[Any], Mapping[str, Any]]:
    try:
        document = parse_json(body)
    except MalformedPayload:
        if not body.lstrip().startswith((b"{", b"\xef\xbb\xbf{")):
            raise
        document = parse_json(b"[" + body.removeprefix(b"\xef\xbb\xbf") + b"]")
    if isinstance(document, list):
        return document, {}
    if isinstance(document, dict) and isinstance(document.get("alerts"), list):
        return document["alerts"], document
    return [document], {}


def is_test_body(body: bytes) -> bool:
    """Whether the body is a test delivery: a JSON object whose every value is a test marker.

    A marker is a string containing ``test`` (any case) or ``true`` under a key containing
    ``test``; an object with any other value, or with an alert field, is not a test.
    """
    try:
        document = parse_json(body)
    except MalformedPayload:
        return False
    if not isinstance(document, dict) or not document:
        return False
    if any(lookup(document, marker) is not None for marker in ALERT_MARKERS):
        return False
    return _only_markers(document)


def _only_markers(node: dict[str, Any]) -> bool:
    for key, value in node.items():
        if isinstance(value, dict):
            if not value or not _only_markers(value):
                return False
        elif isinstance(value, str):
            if "test" not in value.lower():
                return False
        elif value is not True or "test" not in key.lower():
            return False
    return True


def normalize(
    alert: Any, position: int, summary: Mapping[str, Any], received: datetime
) -> dict[str, Any]:
    """Validate one alert document and shape its ``ElasticAlerts_CL`` row.

    Raises:
        MalformedPayload: not an alert, or a field of the wrong kind (named by path).
    """
    if not isinstance(alert, dict) or all(lookup(alert, m) is None for m in ALERT_MARKERS):
        raise MalformedPayload(
            f"Alert {position} is not a Kibana alert document (no kibana.alert.uuid or rule)."
        )
    values: dict[str, Any] = {
        column: _field(alert, kind, paths, position) for column, kind, paths in FIELDS
    }
    for column, key in SUMMARY_FALLBACKS:
        if values[column] is None and isinstance(summary.get(key), str) and summary[key]:
            values[column] = summary[key]
    event_time = _event_time(alert, position)
    severity = values["ElasticSeverity"]
    identity = values["AlertId"] or alert
    values.update(
        TimeGenerated=time_generated(event_time, received),
        EventTime=event_time,
        ReceivedTime=received,
        EventId=event_id(SOURCE_NAME, "alert", {"uuid": identity, "status": values["AlertStatus"]}),
        Severity=SEVERITY.get(severity.lower()) if severity else None,
        Alert=alert,
        TruncatedColumns=[],
    )
    return table().shape_row(values)


def _field(alert: Any, kind: str, paths: Sequence[str], position: int) -> Any:
    for path in paths:
        value = lookup(alert, path)
        if value is None:
            continue
        if kind == NUMBER and isinstance(value, int | float) and not isinstance(value, bool):
            return value
        if kind in (STRING, STRINGS) and isinstance(value, str):
            return value
        if kind == STRINGS and isinstance(value, list) and all(isinstance(v, str) for v in value):
            return ", ".join(value) or None
        raise MalformedPayload(f"Alert {position}: {path} is not a {kind}.")
    return None


def _event_time(alert: Any, position: int) -> datetime | None:
    for path in TIME_PATHS:
        value = lookup(alert, path)
        if value is None:
            continue
        moment = timestamp_or_none(value)
        if moment is None:
            raise MalformedPayload(f"Alert {position}: {path} is not an ISO-8601 time with offset.")
        return moment
    return None


ROUTE = SourceRoute(SOURCE_NAME, frozenset({"POST", "PUT"}), one_endpoint("/api/elastic/alerts"))


class ElasticAlertsSource:
    """Elastic alerts as a webhook source (see ``shared.sources.base.Source``)."""

    name = SOURCE_NAME
    off_without_secret = True  # no credentials in the vault: /api/elastic/alerts answers 404
    batch_body_bytes = BATCH_BODY_BYTES  # a rule's alerts in one body

    def __init__(self, *, auth_name: str, max_items: int = DEFAULT_MAX_ITEMS) -> None:
        """Take the Key Vault secret holding Kibana's Basic credentials or token, and the
        most alerts one request may carry (``MAX_ROWS_PER_REQUEST``)."""
        self.authenticator = BasicOrTokenAuth(auth_name, TOKEN_PLACES)
        self._max_items = max_items

    def table(self) -> TableSchema:
        """ElasticAlerts_CL."""
        return table()

    def enabled_event_types(self) -> frozenset[str] | None:
        """All types: Kibana's rules choose what is sent."""
        return None

    def parse(self, route: str, request: InboundRequest) -> Parsed:
        """One row per alert in the body (none for a summary with no alerts, or a test: 200)."""
        check_json_media(request.headers, also=LEGACY_FORM_TYPE)
        if is_test_body(request.body):
            return Parsed(rows=[], test=True)
        alerts, summary = read_body(request.body, limit=self._max_items)
        rows = [
            normalize(alert, position, summary, request.received)
            for position, alert in enumerate(alerts, start=1)
        ]
        return Parsed(rows=rows, event_types=["alert"] if rows else [])
