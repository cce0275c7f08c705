"""``/api/elastic/cases[/{id}[/comment]]``: Kibana's case connector, answered in JSON.

Through the request pipeline (``shared.inbound.pipeline``):

Kibana may use POST, PUT or PATCH for every write. ``/api/elastic/cases`` also serves
Elastic's Logic App configuration as is (``shared.cases.logicapp``): a body with an
``action`` and ``GET ?sentinel_incident_id=<id>``.

1. method (405 with ``Allow``), then the incident id's shape (404): public facts;
2. settings (503), size (413);
3. credentials (401): the Elastic alerts' ones, Basic or a token, from the Key Vault
   secret ``ELASTIC_AUTH_NAME``; while it does not exist the route is off (404), and so
   it is while no Sentinel workspace is configured;
4. the body (400: not JSON, not an object, a field of the wrong kind);
5. ownership (``shared.cases.ownership``): an incident no Kibana case created is a 404,
   the same as a missing one;
6. Sentinel: 404 for an unknown incident, 503 with ``Retry-After`` when ARM fails (or
   answers with something that is not an incident).

Every answer is ``application/json`` (the edge sets it): Kibana refuses anything else.
"""

from __future__ import annotations

import enum
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.cases import guide, service
from shared.cases.logicapp import is_guide_body
from shared.cases.mapping import case_view, parse_comment, parse_create, parse_update
from shared.cases.ownership import CaseRecords, check_owned, not_found
from shared.errors import IncidentNotFound, SecretMissing, UnknownEventType
from shared.inbound.jsonbody import parse_json_object
from shared.inbound.pipeline import Reply
from shared.inbound.request import InboundRequest
from shared.ports import SecretStore
from shared.sources.base import Authenticator
from shared.sources.media import check_json_media

logger = logging.getLogger(__name__)

SOURCE = "elastic-cases"


WRITES = frozenset({"POST", "PUT", "PATCH"})  # every method Kibana's connector may use


class Endpoint(enum.Enum):
    """The three URLs, each with the methods it takes (values: a name, the methods)."""

    # create, and Elastic's Logic App configuration (GET ?sentinel_incident_id=, and
    # create, update and comment dispatched by "action": shared.cases.logicapp)
    CASES = ("cases", WRITES | {"GET"})
    CASE = ("case", WRITES | {"GET"})  # get, update
    COMMENT = ("comment", WRITES)  # comment

    @property
    def methods(self) -> frozenset[str]:
        """The methods this endpoint takes."""
        methods: frozenset[str] = self.value[1]
        return methods


@dataclass(frozen=True)
class CaseDeps:
    """What the case calls use: the vault, Kibana's credential check, and (lazily) ARM and
    the record of which incidents Kibana's cases created."""

    secrets: SecretStore
    authenticator: Authenticator
    max_body_bytes: int
    api: Callable[[], service.CaseIncidents]
    records: Callable[[], CaseRecords]
    kibana_base_url: str = ""
    """KIBANA_BASE_URL: makes the guide's ``elastic_url_base`` case links absolute."""


@dataclass(frozen=True)
class CaseEndpoint:
    """One of the case URLs for the request pipeline.

    ``deps`` reads the settings: ConfigError, or FeatureOff while Elastic's credential
    setting or incident forwarding (the Sentinel workspace) is misconfigured.
    """

    endpoint: Endpoint
    incident: str
    deps: Callable[[], CaseDeps]
    name: str = SOURCE

    @property
    def methods(self) -> frozenset[str]:
        """What Kibana's connector uses for this URL."""
        return self.endpoint.methods

    def check_route(self) -> None:
        """404 for an incident id that is not a GUID (no setting read)."""
        if self.endpoint is not Endpoint.CASES and not is_incident_id(self.incident):
            raise UnknownEventType("No such incident.")

    def max_body_bytes(self) -> int:
        """MAX_BODY_BYTES."""
        return self.deps().max_body_bytes

    async def authenticate(self, request: InboundRequest) -> None:
        """Kibana's Basic credentials or token; no secret in the vault: the route is off."""
        deps = self.deps()
        try:
            await deps.authenticator.authenticate(request, deps.secrets)
        except SecretMissing:
            raise UnknownEventType("This endpoint is not enabled.") from None

    async def handle(self, request: InboundRequest) -> Reply:
        """Read the body and call Sentinel; an incident that is not a Kibana case's, or
        that does not exist, is the same 404."""
        method = request.method.upper()
        if method != "GET":
            check_json_media(request.headers)
        document = parse_json_object(request.body) if method != "GET" else {}
        deps = self.deps()
        try:
            if self.endpoint is Endpoint.CASES and (method == "GET" or is_guide_body(document)):
                return await _guide(method, document, request, deps)
            return await _call(self.endpoint, method, self.incident, document, deps)
        except IncidentNotFound:
            raise not_found() from None


async def _guide(
    method: str, document: dict[str, Any], request: InboundRequest, deps: CaseDeps
) -> Reply:
    """Elastic's Logic App configuration, served as is (``shared.cases.guide``)."""
    if method == "GET":
        return Reply(200, await guide.get(deps.api(), deps.records(), request.params))
    return Reply(200, await guide.call(deps.api(), deps.records(), document, deps.kibana_base_url))


async def _call(
    endpoint: Endpoint,
    method: str,
    incident: str,
    document: dict[str, Any],
    wired: CaseDeps,
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
