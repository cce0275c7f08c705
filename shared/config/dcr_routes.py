"""Which DCR serves which stream: ``LOGS_INGESTION_DCR_ROUTES``, read without I/O.

A data collection rule holds at most 10 streams, so ``infra/app/dcr.bicep`` spreads the
tables over as many rules as needed and writes one setting mapping each stream to its rule's
immutable ID: ``{"Custom-FigEvents": "dcr-...", ...}``. A stream not in the map goes to
``LOGS_INGESTION_DCR_ID`` (the first rule), so one rule, or no map at all, works as before.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

SETTING = "LOGS_INGESTION_DCR_ROUTES"


def parse_routes(text: str) -> tuple[dict[str, str], list[str]]:
    """The map in ``text`` (empty text: no routes), and what is wrong with it."""
    if not text.strip():
        return {}, []
    try:
        document = json.loads(text)
    except ValueError:
        return {}, [f"{SETTING} must be a JSON object: stream -> DCR immutable ID"]
    if not isinstance(document, dict):
        return {}, [f"{SETTING} must be a JSON object: stream -> DCR immutable ID"]
    routes: dict[str, str] = {}
    problems: list[str] = []
    for stream, rule in document.items():
        if isinstance(rule, str) and stream.startswith("Custom-") and rule.startswith("dcr-"):
            routes[stream] = rule
        else:
            problems.append(f"{SETTING}: {stream!r} must map a Custom- stream to a dcr- ID")
    return routes, problems


def rule_for(stream: str, routes: Mapping[str, str], default: str) -> str:
    """The immutable ID of the DCR that declares ``stream``."""
    return routes.get(stream, default)
