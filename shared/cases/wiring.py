"""What the case routes need, from the process-wide bridge, built on first use.

The ARM client is the incident services' own (``shared.incidents.wiring``), built only
when a call reaches Sentinel, so an unauthenticated request never builds it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.bootstrap import get_bridge
from shared.cases.receive import CaseWiring

if TYPE_CHECKING:
    from shared.cases.ownership import CaseRecords
    from shared.incidents.ports import IncidentApi


def get_case_wiring() -> CaseWiring:
    """The bridge and (lazily) the Sentinel incidents adapter and the case records.

    Raises:
        ConfigError: settings are missing or invalid.
    """
    bridge = get_bridge()

    def api() -> IncidentApi:
        from shared.incidents.wiring import get_incident_wiring

        return get_incident_wiring(lambda: bridge).api

    def records() -> CaseRecords:
        from shared.incidents.wiring import get_incident_wiring

        return get_incident_wiring(lambda: bridge).cases

    return CaseWiring(bridge, api, records)
