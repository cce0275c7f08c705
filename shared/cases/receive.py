"""``/api/elastic/cases[/{id}[/comment]]``: Kibana's case connector, answered in JSON.

Order of checks, as in ``shared.intake``:

1. method (405 with ``Allow``), then the incident id's shape (404): public facts;
2. settings (503), size (413);
3. credentials (401): the Elastic alerts' ones, Basic or a token, from the Key Vault
   secret ``ELASTIC_AUTH_NAME``; while it does not exist the route is off (404), and so
   it is while no Sentinel workspace is configured;
4. the body (400: not JSON, not an object, a field of the wrong kind);
5. ownership (``shared.cases.ownership``): an incident no Kibana case created is a 404,
   the same as a missing one;
6. Sentinel: 404 for an unknown incident, 503 with ``Retry-After`` when ARM fails.

Every answer is ``application/json`` (the edge sets it): Kibana refuses anything else.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared.auth.basic import BasicOrTokenAuth
from shared.cases import service
from shared.cases.mapping import case_view, parse_comment, parse_create, parse_update
from shared.cases.ownership import CaseRecords, check_owned, not_found
from shared.counting import record_reply
from shared.errors import BridgeError, SecretMissing, UnknownEventType, UpstreamUnavailable
from shared.incidents.errors import IncidentNotFound
from shared.incidents.model import IncidentFormatError
from shared.intake import MethodNotAllowed, Reply, check_size, error_reply
from shared.jsonbody import parse_json_object
from shared.sources.elastic_alerts import TOKEN_PLACES
from shared.sources.media import check_json_media

if TYPE_CHECKING:
    from shared.bootstrap import Bridge
    from shared.sources.base import InboundRequest

logger = logging.getLogger(__name__)

SOURCE = "elastic-cases"
AUTHENTICATOR = BasicOrTokenAuth(
    secret_name=lambda settings: settings.elastic_auth_name, token_places=TOKEN_PLACES
)


class Endpoint(enum.Enum):
    """The three URLs, each with the methods it takes."""

    CASES = frozenset({"POST"})  # create
    CASE = frozenset({"GET", "PUT"})  # get, update
    COMMENT = frozenset({"PUT"})  # comment

    @property
    def methods(self) -> frozenset[str]:
        """The methods this endpoint takes."""
        methods: frozenset[str] = self.value
        return methods


@dataclass(frozen=True)
class CaseWiring:
    """What the case calls need: the bridge (settings, secrets, counters) and ARM."""

    bridge: Bridge
    api: Callable[[], service.CaseIncidents]
    records: Callable[[], CaseRecords]


async def receive_case(
    endpoint: Endpoint,
    incident: str,
    request: InboundRequest,
    wiring: Callable[[], CaseWiring],
) -> Reply:
    """Handle one call of Kibana's case connector (see the module docstring)."""
    built: list[CaseWiring] = []

    def wired() -> CaseWiring:
        if not built:
            built.append(wiring())
        return built[0]

    code: str | None = None
    try:
        reply = await _receive(endpoint, incident, request, wired)
    except SecretMissing:
        off = UnknownEventType("This endpoint is not enabled.")
        reply, code = error_reply(off, source=SOURCE), off.code
    except BridgeError as error:
        reply, code = error_reply(error, source=SOURCE), error.code
    with contextlib.suppress(BridgeError):  # broken settings: nothing to count with
        record_reply(wired().bridge, SOURCE, reply.status, code)
    return reply


async def _receive(
    endpoint: Endpoint, incident: str, request: InboundRequest, wiring: Callable[[], CaseWiring]
) -> Reply:
    method = request.method.upper()
    if method not in endpoint.methods:
        raise MethodNotAllowed(endpoint.methods)
    if endpoint is not Endpoint.CASES and not is_incident_id(incident):
        raise UnknownEventType("No such incident.")
    wired = wiring()
    settings = wired.bridge.settings
    check_size(request, settings.max_body_bytes)
    await AUTHENTICATOR.authenticate(request, wired.bridge.secrets, settings)
    if not settings.incidents.enabled:
        raise UnknownEventType("This endpoint is not enabled (no Sentinel workspace is set).")
    if method != "GET":
        check_json_media(request.headers)
    document = parse_json_object(request.body) if method != "GET" else {}
    try:
        return await _call(endpoint, method, incident, document, wired)
    except IncidentNotFound:
        raise not_found() from None
    except IncidentFormatError:
        raise UpstreamUnavailable("Sentinel answered with an incident it could not read") from None


async def _call(
    endpoint: Endpoint,
    method: str,
    incident: str,
    document: dict[str, Any],
    wired: CaseWiring,
) -> Reply:
    records = wired.records()
    if endpoint is Endpoint.CASES:
        case = parse_create(document)
        # Recorded first: the name is the case's own (uuid5 of its id), so a record
        # left by a failed create grants nothing beyond what that case may touch.
        await records.save_case(case.incident_name, case.case_id)
        return Reply(200, case_view(await service.create(wired.api(), case)))
    await check_owned(records, incident)  # others' incidents: the 404 of a missing one
    api = wired.api()
    if endpoint is Endpoint.COMMENT:
        text = parse_comment(document, incident)
        identifier = await service.comment(api, incident, text)
        return Reply(200, {"id": identifier, "incidentId": incident})
    if method == "GET":
        return Reply(200, case_view(await service.get(api, incident)))
    fields = parse_update(document, incident)
    return Reply(200, case_view(await service.update(api, incident, fields)))


def is_incident_id(text: str) -> bool:
    """Whether ``text`` is an incident name the bridge passes on to ARM (a GUID)."""
    try:
        return str(uuid.UUID(text)) == text.lower()
    except ValueError:
        return False
