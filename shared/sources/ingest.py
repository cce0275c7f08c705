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

The signature is checked by ``StandardWebhooksAuth``. A ``webhook-id`` is *claimed* as
in flight before its row is sent, atomically across every instance (a Table the
instances share: ``shared.sources.replay_guard``), so of several copies sent at once,
to one instance or to several, exactly one is delivered and the others get the
duplicate answer (200, no row). A delivered id is kept for the guard's window; one whose
delivery failed (503, anything) is released when the request ends, so the sender's
retry is taken. A body refused at parse (400) never claims its id. The guard
complements de-duplication by ``EventId`` in KQL, it does not replace it.

A bound source (:meth:`IngestSources.bind`) serves one route; its settings come from an
injected provider, like a clock, because its table depends on them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
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
from shared.sources.replay_guard import ReplayLedger, ReplayTicket

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

    def __init__(
        self, route: str, config: IngestConfig, ledger: Callable[[], ReplayLedger]
    ) -> None:
        """Serve ``route`` as ``config`` says; ``ledger`` gives the replay ledger every
        route (and every instance) shares, built on first use."""
        self.route = route
        self.name = source_name(route)
        self._table = load_table(config.table)
        self._ledger = ledger
        self.authenticator = StandardWebhooksAuth(config.secret_names)

    def table(self) -> TableSchema:
        """The table of the route's stream."""
        return self._table

    def enabled_event_types(self) -> frozenset[str] | None:
        """All: the sender chooses what it signs and sends."""
        return None

    def parse(self, route: str, request: InboundRequest) -> Parsed:
        """One message, one row, claimed before delivery (a repeated ``webhook-id``: 200)."""
        check_json_media(request.headers)
        msg_id = message_id(request.headers)
        payload = parse_json(request.body)
        row = shape(self.table(), self.route, msg_id, payload, request.received)
        ticket = ReplayTicket(self._ledger(), (self.route, msg_id), request.received)
        return Parsed(
            rows=[row],
            event_types=[row["EventType"]] if "EventType" in row else [],
            claim=ticket.claim,
            on_accepted=ticket.keep,
            on_finished=ticket.finish,
        )


def source_name(route: str) -> str:
    """The name a route's rows, counters and logs carry: ``ingest-<route>``."""
    return f"{FAMILY}-{route}"
