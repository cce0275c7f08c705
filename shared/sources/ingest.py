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

The signature is checked by ``StandardWebhooksAuth``. A ``webhook-id`` seen again within
``ReplayGuard``'s window is answered 200 without a row; it is remembered only once
Sentinel accepted its row, so a sender retrying after a 503 is never turned away. The
memory is per instance and per process: it complements de-duplication by ``EventId`` in
KQL, it does not replace it.

A bound source (:meth:`IngestSources.bind`) serves one route; its settings come from an
injected provider, like a clock, because its table depends on them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from shared.auth.standard_webhooks import StandardWebhooksAuth, message_id
from shared.config.ingest import NAME
from shared.errors import MalformedPayload, SchemaError, UnknownEventType
from shared.inbound.jsonbody import parse_json
from shared.inbound.request import InboundRequest
from shared.rows.eventid import event_id
from shared.rows.schema import TableSchema, load_table
from shared.rows.timepolicy import time_generated, timestamp_or_none
from shared.sources.base import Parsed, SourceRoute
from shared.sources.media import check_json_media

if TYPE_CHECKING:
    from shared.config.ingest import IngestConfig

logger = logging.getLogger(__name__)

FAMILY = "ingest"
GENERIC_STREAM = "Custom-BridgeEvents"
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
REPLAY_WINDOW_SECONDS = 24 * 3600.0  # Standard Webhooks' example retry schedule spans a day
REPLAY_MAX_ENTRIES = 20_000


class ReplayGuard:
    """Delivered message ids, remembered for a bounded time and number (oldest dropped)."""

    def __init__(
        self,
        *,
        window_seconds: float = REPLAY_WINDOW_SECONDS,
        max_entries: int = REPLAY_MAX_ENTRIES,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """Take the window, the bound and the clock."""
        self._window = window_seconds
        self._max_entries = max_entries
        self._monotonic = monotonic
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def seen(self, key: tuple[str, str]) -> bool:
        """True when ``key`` was remembered within the window."""
        with self._lock:
            remembered = self._seen.get(key)
            if remembered is None:
                return False
            if self._monotonic() - remembered > self._window:
                del self._seen[key]
                return False
            return True

    def remember(self, key: tuple[str, str]) -> None:
        """Remember ``key`` now, dropping the oldest entries beyond the bound."""
        with self._lock:
            self._seen[key] = self._monotonic()
            self._seen.move_to_end(key)
            while len(self._seen) > self._max_entries:
                self._seen.popitem(last=False)


def shape(
    schema: TableSchema, source: str, msg_id: str, payload: Any, received: datetime
) -> dict[str, Any]:
    """The row for one message in ``schema`` (see the module docstring for the mapping).

    Raises:
        MalformedPayload: a payload field does not fit its column (named, value not shown).
    """
    envelope: dict[str, Any] = payload if isinstance(payload, dict) else {}
    kind = envelope.get("type") if isinstance(envelope.get("type"), str) else None
    event_time = timestamp_or_none(envelope.get("timestamp"))
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


def route_of(route: str) -> SourceRoute:
    """What is known of ``/api/ingest/{route}`` before settings: a name of the right form.

    Whether INGEST_SOURCES lists it is a setting: the root answers that (404 if not)."""

    def check(requested: str) -> None:
        if not NAME.fullmatch(requested):
            raise UnknownEventType("No such source.")

    name = source_name(route) if NAME.fullmatch(route) else FAMILY
    return SourceRoute(name, frozenset({"POST"}), check)


class IngestSource:
    """One ``/api/ingest/{source}`` route as a webhook source (``shared.sources.base.Source``)."""

    off_without_secret = False  # a listed source without its secret is misconfigured: 503
    batch_body_bytes = None  # one event per request: MAX_BODY_BYTES

    def __init__(self, route: str, config: IngestConfig, guard: ReplayGuard) -> None:
        """Serve ``route`` as ``config`` says; ``guard`` is shared by every route."""
        self.route = route
        self.name = source_name(route)
        self._table = load_table(config.table)
        self._guard = guard
        self.authenticator = StandardWebhooksAuth(config.secret_names)

    def table(self) -> TableSchema:
        """The table of the route's stream."""
        return self._table

    def enabled_event_types(self) -> frozenset[str] | None:
        """All: the sender chooses what it signs and sends."""
        return None

    def parse(self, route: str, request: InboundRequest) -> Parsed:
        """One message, one row; a repeated ``webhook-id`` gives no row (answered 200)."""
        check_json_media(request.headers)
        msg_id = message_id(request.headers)
        key = (self.route, msg_id)
        if self._guard.seen(key):
            logger.info("%s: webhook-id already delivered; no second row", self.name)
            return Parsed(rows=[], duplicate=True)
        row = shape(self.table(), self.route, msg_id, parse_json(request.body), request.received)
        return Parsed(
            rows=[row],
            event_types=[row["EventType"]] if "EventType" in row else [],
            on_accepted=partial(self._guard.remember, key),
        )


def source_name(route: str) -> str:
    """The name a route's rows, counters and logs carry: ``ingest-<route>``."""
    return f"{FAMILY}-{route}"
