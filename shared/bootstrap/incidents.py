"""Incident forwarding's adapters, built from the settings (by the root only).

One :class:`~shared.incidents.forward.Forwarder` per incident source (``INCIDENT_SOURCES``,
or the ``SENTINEL_*`` workspace alone): a Sentinel source gets its own ARM client (its
subscription), a Graph source the Graph security client; all share the credential, the
poster, Key Vault, the retry storage and the incident table (each source in its own
partitions).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from shared.adapters.destinations import HttpPoster
from shared.adapters.sentinel import SentinelIncidents, build_client
from shared.bootstrap.clients import Clients
from shared.cases.ownership import CaseRecords
from shared.config.incidents import DEFAULT_SOURCE, GRAPH_KIND, IncidentSettings
from shared.config.platform import Platform
from shared.config.search import SearchSettings
from shared.config.settings import Settings
from shared.incidents.fleet import IncidentFleet
from shared.incidents.forward import Forwarder
from shared.incidents.ports import IncidentApi
from shared.incidents.search_results import AlertSearch
from shared.incidents.table import TableIncidentState, build_incident_state
from shared.telemetry.metrics import Counters

if TYPE_CHECKING:
    from azure.monitor.query import LogsQueryClient


@dataclass(frozen=True)
class IncidentWiring:
    """Incident forwarding's adapters: the default (or first) source's forwarder, its ARM
    client and records, and every source's forwarder (``fleet``)."""

    forwarder: Forwarder
    api: IncidentApi
    cases: CaseRecords
    fleet: IncidentFleet


def build_api(settings: IncidentSettings, clients: Clients) -> IncidentApi:
    """The source's incident API: ARM for a Sentinel workspace, Graph for ``graph``."""
    if settings.kind == GRAPH_KIND:
        from shared.adapters.graph import GraphIncidents
        from shared.adapters.graph_http import build_pipeline

        return GraphIncidents(build_pipeline(settings, clients.credential), settings)
    return SentinelIncidents(build_client(settings, clients.credential), settings)


def build_incidents(
    settings: Settings,
    clients: Clients,
    platform: Platform,
    counters: Counters,
    rng: random.Random,
) -> IncidentWiring:
    """Every source's API client, the destinations' poster and the incident state table,
    around the shared clients."""
    state = build_incident_state(
        settings.storage, clients.storage_credential, health_table_name=settings.health_table_name
    )
    searches = _Searches(settings.incident_search, clients)
    base = Forwarder(
        settings=settings.incidents,
        api=build_api(settings.incidents, clients),
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
        search=searches(settings.incidents),
    )
    forwarders = {
        source.source_id: _for_source(base, source, state, clients, searches)
        for source in settings.incident_sources.sources
    }
    case_source = settings.incident_sources.case_source()
    fleet = IncidentFleet(
        forwarders=forwarders,
        off=settings.incident_sources.problems,
        secrets=clients.secrets,
        callback_token_name=settings.incidents.signl4_callback_token_name,
        case_source=case_source.source_id if case_source is not None else None,
    )
    main = fleet.default or base
    cases = forwarders[case_source.source_id] if case_source is not None else main
    records = cases.state if isinstance(cases.state, TableIncidentState) else state
    return IncidentWiring(main, cases.api, records, fleet)


def _for_source(
    base: Forwarder,
    source: IncidentSettings,
    state: TableIncidentState,
    clients: Clients,
    searches: _Searches,
) -> Forwarder:
    if source.source_id == DEFAULT_SOURCE and source == base.settings:
        return base
    scope = "" if source.source_id == DEFAULT_SOURCE else source.source_id
    return replace(
        base,
        settings=source,
        api=build_api(source, clients),
        state=state.scoped(scope),
        breaker_cache=type(base.breaker_cache)(),
        search=searches(source),
    )


class _Searches:
    """Each Sentinel source's search-results reader (its workspace), around one query
    client built on first use; None for Graph sources or while the feature is off."""

    def __init__(self, settings: SearchSettings, clients: Clients) -> None:
        self._settings = settings
        self._clients = clients
        self._client: LogsQueryClient | None = None

    def __call__(self, source: IncidentSettings) -> AlertSearch | None:
        if not (self._settings.enabled and source.enabled) or source.kind == GRAPH_KIND:
            return None
        from shared.adapters.loganalytics import (
            LogAnalyticsReader,
            build_logs_client,
            workspace_resource_id,
        )

        if self._client is None:
            self._client = build_logs_client(self._settings.endpoint, self._clients.credential)
        where = workspace_resource_id(
            source.subscription_id, source.resource_group, source.workspace_name
        )
        return AlertSearch(LogAnalyticsReader(self._client, where), self._settings)
