"""Any tool that signs its webhooks with Standard Webhooks: ``/api/ingest/{source}``.

``INGEST_SOURCES`` names each source, its stream and its secrets (newest first)::

    {"acme": {"stream": "Custom-BridgeEvents", "secretNames": ["acme-whsec-2", "acme-whsec-1"]}}

Sources not listed answer 404. The stream names a table with a schema file
(``Custom-Foo`` -> ``infra/tables/Foo_CL.json``). In ``BridgeEvents_CL`` the payload is a
dynamic column. A table of its own is filled by column name: the bridge's columns
(``TimeGenerated``, ``EventTime``, ``ReceivedTime``, ``EventId``, ``Source``,
``EventType``, ``WebhookId``, ``Payload``, ``TruncatedColumns``) where the table has them,
and every other column from the field of the same name in the payload's ``data`` object
(or in the payload itself when it has no ``data`` object).

The signature is checked by ``StandardWebhooksAuth``. A ``webhook-id`` is *reserved* as
in flight before its row is shaped and sent, atomically, so of several copies sent at
once exactly one is delivered and the others get the duplicate answer (200, no row). A
delivered id is remembered for ``ReplayGuard``'s window; one whose delivery failed (400,
503, anything) is released when the request ends, so the sender's retry is taken. The
memory is per instance and per process: it complements de-duplication by ``EventId`` in
KQL, it does not replace it (the scale-out issue moves it into a shared Table).

A bound source (:meth:`IngestSources.bind`) serves one route; its settings come from an
injected provider, like a clock, because its table depends on them.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from shared.auth.standard_webhooks import StandardWebhooksAuth, message_id
from shared.errors import MalformedPayload, UnknownEventType
from shared.eventid import event_id
from shared.jsonbody import parse_json
from shared.schema import SchemaError, TableSchema, load_table
from shared.sources.base import InboundRequest, Parsed
from shared.sources.media import check_json_media
from shared.sources.replay_guard import ReplayGuard
from shared.timepolicy import parse_timestamp, time_generated

if TYPE_CHECKING:
    from shared.settings import Settings

logger = logging.getLogger(__name__)

FAMILY = "ingest"
GENERIC_STREAM = "Custom-BridgeEvents"
# Route names; with the "ingest-" prefix they stay valid source names (64 at most).
NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,56}")
STREAM = re.compile(r"Custom-[A-Za-z0-9_]{1,60}")
SECRET_NAME = re.compile(r"[0-9A-Za-z-]{1,127}")
CONFIG_KEYS = frozenset({"stream", "secretNames"})
BRIDGE_COLUMNS = frozenset(
    {
        "TimeGenerated",
        "EventTime",
        "ReceivedTime",
        "EventId",
        "Source",
        "EventType",
        "WebhookId",
        "Payload",
        "TruncatedColumns",
    }
)


@dataclass(frozen=True)
class IngestConfig:
    """One configured source: its stream and its Key Vault secret names, newest first."""

    stream: str
    secret_names: tuple[str, ...]

    @property
    def table(self) -> str:
        """The table behind the stream: ``Custom-Foo`` -> ``Foo_CL``."""
        return self.stream.removeprefix("Custom-") + "_CL"


def parse_sources(text: str) -> tuple[dict[str, IngestConfig], list[str]]:
    """Read ``INGEST_SOURCES``; return the sources and every problem found (by name).

    Each stream must have its table's schema file; problems never quote secret names'
    values (there are none here) but do name sources and keys, for the operator.
    """
    try:
        document = json.loads(text or "{}")
    except ValueError:
        return {}, ["INGEST_SOURCES is not valid JSON"]
    if not isinstance(document, dict):
        return {}, ["INGEST_SOURCES must be a JSON object of source name -> settings"]
    sources: dict[str, IngestConfig] = {}
    problems: list[str] = []
    for name, entry in document.items():
        found = _entry_problems(name, entry)
        if found:
            problems.extend(f"INGEST_SOURCES[{name!r}]: {p}" for p in found)
            continue
        sources[name] = IngestConfig(entry["stream"], tuple(entry["secretNames"]))
    return sources, problems


def _entry_problems(name: str, entry: Any) -> list[str]:
    if not NAME.fullmatch(name):
        return ["names are 1-57 of a-z, 0-9, - and _, starting with a letter or digit"]
    if not isinstance(entry, dict):
        return ['must be {"stream": "Custom-...", "secretNames": [...]}']
    problems = [f"unknown key {key!r}" for key in sorted(set(entry) - CONFIG_KEYS)]
    stream, names = entry.get("stream"), entry.get("secretNames")
    if not isinstance(stream, str) or not STREAM.fullmatch(stream):
        problems.append("stream must be Custom-<Table> (the table name without _CL)")
    elif not _has_schema(stream):
        problems.append(f"no schema file infra/tables/{stream.removeprefix('Custom-')}_CL.json")
    if (
        not isinstance(names, list)
        or not names
        or not all(isinstance(n, str) and SECRET_NAME.fullmatch(n) for n in names)
    ):
        problems.append("secretNames must be a non-empty list of Key Vault secret names")
    return problems


def _has_schema(stream: str) -> bool:
    try:
        load_table(IngestConfig(stream, ()).table)
    except (OSError, ValueError):
        return False
    return True


def resolve(settings: Settings, name: str) -> IngestConfig:
    """The configuration of source ``name``, or UnknownEventType (404) when not listed."""
    config = settings.ingest_sources.get(name)
    if config is None:
        raise UnknownEventType("No such source.")
    return config


def shape(
    schema: TableSchema, source: str, msg_id: str, payload: Any, received: datetime
) -> dict[str, Any]:
    """The row for one message in ``schema`` (see the module docstring for the mapping).

    Raises:
        MalformedPayload: a payload field does not fit its column (named, value not shown).
    """
    envelope: dict[str, Any] = payload if isinstance(payload, dict) else {}
    kind = envelope.get("type") if isinstance(envelope.get("type"), str) else None
    event_time = _timestamp(envelope.get("timestamp"))
    inner = envelope.get("data")
    data: dict[str, Any] = inner if isinstance(inner, dict) else envelope
    bridge = {
        "TimeGenerated": time_generated(event_time, received),
        "EventTime": event_time,
        "ReceivedTime": received,
        "EventId": event_id(f"{FAMILY}-{source}", kind or "", msg_id),
        "Source": source,
        "EventType": kind,
        "WebhookId": msg_id,
        "Payload": payload,
        "TruncatedColumns": [],
    }
    values = {
        column: bridge[column] if column in BRIDGE_COLUMNS else data.get(column)
        for column in schema.column_names
    }
    try:
        return schema.shape_row(values)
    except SchemaError as error:
        raise MalformedPayload(f"The payload does not fit {schema.table}: {error}") from None


def _timestamp(value: Any) -> datetime | None:
    """The payload's ISO-8601 timestamp; anything else is left in the payload only."""
    if not isinstance(value, str):
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        return None


class IngestSource:
    """One ``/api/ingest/{source}`` route as a webhook source (``shared.sources.base.Source``)."""

    methods = frozenset({"POST"})
    off_without_secret = False  # a listed source without its secret is misconfigured: 503
    batch_body_bytes = None  # one event per request: MAX_BODY_BYTES

    def __init__(self, route: str, settings: Callable[[], Settings], guard: ReplayGuard) -> None:
        """Bind ``route``; ``settings`` is called only after intake has read the settings."""
        self.route = route
        self.name = f"{FAMILY}-{route}"
        self._settings = settings
        self._guard = guard
        self.authenticator = StandardWebhooksAuth(lambda s: resolve(s, route).secret_names)

    def table(self) -> TableSchema:
        """The table of the route's stream."""
        return load_table(resolve(self._settings(), self.route).table)

    def enabled_event_types(self, settings: Settings) -> frozenset[str] | None:
        """All: the sender chooses what it signs and sends."""
        return None

    def check_route(self, route: str) -> None:
        """404 for a name that is not well formed or not in INGEST_SOURCES."""
        if not NAME.fullmatch(route):
            raise UnknownEventType("No such source.")
        resolve(self._settings(), route)

    def parse(self, route: str, request: InboundRequest) -> Parsed:
        """One message, one row; a repeated ``webhook-id`` gives no row (answered 200)."""
        check_json_media(request.headers)
        msg_id = message_id(request.headers)
        key = (self.route, msg_id)
        if not self._guard.reserve(key):
            logger.info("%s: webhook-id already delivered or in flight; no second row", self.name)
            return Parsed(rows=[], duplicate=True)
        try:
            payload = parse_json(request.body)
            row = shape(self.table(), self.route, msg_id, payload, request.received)
        except BaseException:
            self._guard.release(key)
            raise
        return Parsed(
            rows=[row],
            event_types=[row["EventType"]] if "EventType" in row else [],
            on_accepted=partial(self._guard.remember, key),
            on_finished=partial(self._guard.release, key),
        )


class IngestSources:
    """The family of ``/api/ingest/{source}`` routes, sharing one replay memory."""

    name = FAMILY
    methods = IngestSource.methods

    def __init__(self, guard: ReplayGuard | None = None) -> None:
        """Share ``guard`` (a fresh one by default) between every bound route."""
        self.guard = guard or ReplayGuard()

    def bind(self, route: str, settings: Callable[[], Settings]) -> IngestSource:
        """The source for one route; ``settings`` returns the bridge's settings."""
        return IngestSource(route, settings, self.guard)


SOURCE = IngestSources()
