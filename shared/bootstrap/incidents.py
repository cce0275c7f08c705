"""Incident forwarding's adapters, built from the settings (by the root only)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from shared.adapters.destinations import HttpPoster
from shared.adapters.sentinel import SentinelIncidents, build_client
from shared.bootstrap.clients import Clients
from shared.config.platform import Platform
from shared.config.settings import Settings
from shared.incidents.forward import Forwarder
from shared.incidents.table import build_incident_state
from shared.telemetry.metrics import Counters


@dataclass(frozen=True)
class IncidentWiring:
    """Incident forwarding's adapters: the forwarder, and the ARM incidents client."""

    forwarder: Forwarder
    api: SentinelIncidents


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
    )
    return IncidentWiring(forwarder, api)
