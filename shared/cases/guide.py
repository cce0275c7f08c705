"""The guide's calls (``shared.cases.logicapp``) against Sentinel, through ``service``.

Each call goes through the same ``shared.cases.service`` functions as the bridge-native
routes (so every rule they apply applies here too), then keeps the Kibana case URL on the
incident as its case-link comment. A link Sentinel refuses (an incident full of comments)
is logged and never fails the call; an ARM failure does (503: Kibana retries, and every
call is safe to repeat).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from shared.cases import service
from shared.cases.logicapp import (
    INCIDENT_KEY,
    GuideComment,
    GuideCreate,
    case_link_comment_id,
    case_link_text,
    guide_view,
    incident_of,
    parse_guide,
)
from shared.cases.ownership import CaseRecords, check_owned
from shared.errors import MalformedPayload, UpstreamUnavailable

logger = logging.getLogger(__name__)

BAD_REQUEST = 400


async def call(
    api: service.CaseIncidents,
    records: CaseRecords,
    document: Mapping[str, Any],
    kibana_base_url: str,
) -> dict[str, Any]:
    """Run one of the guide's POST/PUT/PATCH bodies; the JSON answer Kibana reads.

    The credential reaches only incidents Kibana's cases created (``shared.cases.ownership``):
    a create is recorded before it runs, every other call checks the record first.
    """
    parsed = parse_guide(document, kibana_base_url)
    if isinstance(parsed, GuideCreate):
        await records.save_case(parsed.case.incident_name, parsed.case.case_id)
        incident = await service.create(api, parsed.case)
    else:
        await check_owned(records, parsed.incident)
        if isinstance(parsed, GuideComment):
            identifier = await service.comment(api, parsed.incident, parsed.text)
            return {INCIDENT_KEY: parsed.incident, "id": identifier, "commentId": identifier}
        incident = await service.update(api, parsed.incident, parsed.fields)
    if parsed.case_url is not None:
        await _link(api, incident.name, parsed.case_url)
    return guide_view(incident)


async def get(
    api: service.CaseIncidents, records: CaseRecords, params: Mapping[str, str]
) -> dict[str, Any]:
    """``GET ?sentinel_incident_id=<id>``: the incident as the guide's get-case step reads it.

    Raises:
        MalformedPayload: no ``sentinel_incident_id`` parameter.
        UnknownEventType: not an incident a Kibana case created (the 404 of a missing one).
    """
    if INCIDENT_KEY not in params:
        raise MalformedPayload(f"GET needs ?{INCIDENT_KEY}=<incident id>.")
    incident = incident_of(params[INCIDENT_KEY])
    await check_owned(records, incident)
    return guide_view(await service.get(api, incident))


async def _link(api: service.CaseIncidents, incident: str, url: str) -> None:
    """Write (or rewrite) the incident's case-link comment."""
    try:
        await api.put_comment(incident, case_link_comment_id(incident), case_link_text(url))
    except UpstreamUnavailable as error:
        if error.upstream_status != BAD_REQUEST:
            raise
        logger.warning("Incident %s: Sentinel refused the Kibana case link comment", incident)
