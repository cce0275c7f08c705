"""Incident forwarding's composition: built lazily from ``get_bridge()``, cached per bridge.

Nothing runs at import. The first poll, callback or queued delivery builds the ARM client
(``azure-mgmt-securityinsight``), the destinations' HTTP poster, and the state table on
the host's storage account, from the bridge's settings, credential, secrets, retry queue,
dead letters, sink and counters. When the bridge is rebuilt (``reset_bridge``), so is this.

For the lead: ``build_incident_wiring`` belongs in ``shared.bootstrap`` next to
``build_bridge`` once incidents are part of the Bridge; :func:`incident_targets` goes
into ``bootstrap.retry_deps`` (``targets={**default_targets(), **incident_targets()}``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.bootstrap import Bridge, get_bridge
from shared.incidents.forward import Forwarder, retry_deliverer
from shared.incidents.sending import SIGNL4_KIND, WEBHOOK_KIND

if TYPE_CHECKING:
    from shared.adapters.sentinel import SentinelIncidents
    from shared.cases.ownership import CaseRecords
    from shared.retry import Deliver

DEFAULT_BRIDGE_NAME = "sentinel-bridge"


@dataclass(frozen=True)
class IncidentWiring:
    """The incident services' adapters."""

    forwarder: Forwarder
    api: SentinelIncidents
    cases: CaseRecords


_cached: tuple[Bridge, IncidentWiring] | None = None
_lock = threading.Lock()


def build_incident_wiring(
    bridge: Bridge, environ: Mapping[str, str] | None = None
) -> IncidentWiring:
    """Build the ARM client, poster and state table for ``bridge``'s settings."""
    from shared.adapters.destinations import HttpPoster
    from shared.adapters.retry_storage import storage_credential
    from shared.adapters.sentinel import SentinelIncidents, build_client
    from shared.incidents.table import build_incident_state

    values = os.environ if environ is None else environ
    settings = bridge.settings
    api = SentinelIncidents(build_client(settings.incidents, bridge.credential), settings.incidents)
    state = build_incident_state(
        settings.storage,
        storage_credential(settings.storage, settings.azure_client_id),
        health_table_name=settings.health_table_name,
    )
    forwarder = Forwarder(
        settings=settings.incidents,
        api=api,
        # The same CA variable azure-core's requests transport honours (no test switch).
        poster=HttpPoster(ca_file=values.get("REQUESTS_CA_BUNDLE") or None),
        secrets=bridge.secrets,
        state=state,
        queue=bridge.retry_queue,
        dead_letters=bridge.dead_letters,
        sink=bridge.sink,
        counters=bridge.counters,
        rng=bridge.rng,
        base_seconds=settings.retry_base_seconds,
        cap_seconds=settings.retry_max_seconds,
        bridge_name=values.get("WEBSITE_SITE_NAME", "").strip() or DEFAULT_BRIDGE_NAME,
    )
    return IncidentWiring(forwarder, api, state)


def get_incident_wiring(bridge: Callable[[], Bridge] = get_bridge) -> IncidentWiring:
    """The process-wide wiring for the current bridge, built on first use.

    Raises:
        ConfigError: settings are missing or invalid.
    """
    global _cached
    current = bridge()
    cached = _cached
    if cached is not None and cached[0] is current:
        return cached[1]
    with _lock:
        if _cached is None or _cached[0] is not current:
            _cached = (current, build_incident_wiring(current))
        return _cached[1]


def get_forwarder() -> Forwarder:
    """The process-wide Forwarder."""
    return get_incident_wiring().forwarder


def incident_targets() -> dict[str, Deliver]:
    """The retry worker's deliverers for ``signl4:`` and ``webhook:`` targets."""
    deliver = retry_deliverer(get_forwarder)
    return {SIGNL4_KIND: deliver, WEBHOOK_KIND: deliver}
