"""Incident forwarding's adapters, built from the settings (by the root only)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from shared.adapters.destinations import HttpPoster
from shared.adapters.sentinel import SentinelIncidents, build_client
from shared.bootstrap.clients import Clients
from shared.cases.ownership import CaseRecords
from shared.config.platform import Platform
from shared.config.settings import Settings
from shared.incidents.forward import Forwarder
from shared.incidents.search_results import AlertSearch
from shared.incidents.table import build_incident_state
from shared.telemetry.metrics import Counters


@dataclass(frozen=True)
class IncidentWiring:
    """Incident forwarding's adapters: the forwarder, and the ARM incidents client."""

    forwarder: Forwarder
    api: SentinelIncidents
    cases: CaseRecords


def build_incidents(
    settings: Settings,
    clients: Clients,
    platform: Platform,
    counters: Counters,
    rng: random.Random,
) -> IncidentWiring:
    """The ARM client (``azure-mgmt-securityinsight``), the destinations' poster and the
    incident state table, around the shared clients."""
    api = SentinelIncidents(
        build_client(settings.incidents, clients.credential), settings.incidents
    )
    state = build_incident_state(
        settings.storage, clients.storage_credential, health_table_name=settings.health_table_name
    )
    forwarder = Forwarder(
        settings=settings.incidents,
        api=api,
        poster=HttpPoster(ca_file=platform.ca_bundle),
        secrets=clients.secrets,
        state=state,
        queue=clients.storage.queue,
        dead_letters=clients.storage.dead_letters,
        sink=clients.sink,
        counters=counters,
        rng=rng,
        base_seconds=settings.retry_base_seconds,
        cap_seconds=settings.retry_max_seconds,
        bridge_name=platform.site_name,
        search=_search(settings, clients) if settings.incident_search.enabled else None,
    )
    return IncidentWiring(forwarder, api, state)


def _search(settings: Settings, clients: Clients) -> AlertSearch:
    """The Log Analytics reader for the incidents' workspace (``azure-monitor-query``)."""
    from shared.adapters.loganalytics import (
        LogAnalyticsReader,
        build_logs_client,
        workspace_resource_id,
    )

    where = settings.incidents
    reader = LogAnalyticsReader(
        build_logs_client(settings.incident_search.endpoint, clients.credential),
        workspace_resource_id(where.subscription_id, where.resource_group, where.workspace_name),
    )
    return AlertSearch(reader, settings.incident_search)
