"""Fig's webhook contracts, as data: each route's fields and JSON kinds, its enums, and
what names the event's activity and time. Source: mzbrau/fig ``src/common/Fig.WebHooks.Contracts``
(see ``../shared/reference/payloads.md``, section 1). Walked by ``shared.sources.fig``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# JSON kinds a field may hold (besides null, which Fig writes for absent values).
STRING, INTEGER, NUMBER, BOOLEAN, TIMESTAMP, STRINGS, OBJECT = (
    "string",
    "integer",
    "number",
    "boolean",
    "timestamp",
    "list of strings",
    "object",
)

CONNECTION_EVENT = {0: "Connected", 1: "Disconnected"}
HEALTH_STATUS = {0: "Healthy", 1: "Degraded", 2: "Unhealthy", 3: "Unknown"}
RUN_SESSIONS_EVENT = {0: "BelowMinimum", 1: "MinimumRestored"}
REGISTRATION_TYPE = {0: "New", 1: "Updated"}
CONFIGURATION_STATUS = {0: "Error", 1: "Resolved"}

# Event fields that fill a table column directly: (column, field).
DIRECT_COLUMNS = (
    ("UserName", "Username"),
    ("IpAddress", "IpAddress"),
    ("Hostname", "Hostname"),
    ("ClientName", "ClientName"),
    ("Instance", "Instance"),
    ("Success", "Success"),
    ("Link", "Link"),
    ("Link", "Uri"),
    ("Message", "FailureReason"),
    ("Message", "ChangeMessage"),
)

# (event type, field, value, severity); first match wins, else Informational.
SEVERITY_RULES = (
    ("SecurityEvent", "Success", False, "Medium"),
    ("HealthStatusChanged", "Status", "Unhealthy", "High"),
    ("HealthStatusChanged", "Status", "Degraded", "Medium"),
    ("MinRunSessions", "RunSessionsEvent", "BelowMinimum", "Medium"),
)

_CLIENT = {"ClientName": STRING, "Instance": STRING, "Link": STRING, "IsTest": BOOLEAN}
_VERSIONS = {"FigVersion": STRING, "ApplicationVersion": STRING}


@dataclass(frozen=True)
class Contract:
    """One Fig webhook route: its fields, its enums, and what names the activity."""

    event_type: str
    fields: Mapping[str, str]
    enums: Mapping[str, Mapping[int, str]] = field(default_factory=dict)
    activity_field: str | None = None
    time_field: str | None = None


SECURITY_EVENT = Contract(
    "SecurityEvent",
    {
        "EventType": STRING,
        "Timestamp": TIMESTAMP,
        "Username": STRING,
        "Success": BOOLEAN,
        "IpAddress": STRING,
        "Hostname": STRING,
        "FailureReason": STRING,
        "Uri": STRING,
        "IsTest": BOOLEAN,
    },
    activity_field="EventType",
    time_field="Timestamp",
)
SETTING_VALUE_CHANGED = Contract(
    "SettingValueChanged",
    {**_CLIENT, "UpdatedSettings": STRINGS, "Username": STRING, "ChangeMessage": STRING},
)
CLIENT_REGISTRATION = Contract(
    "ClientRegistration",
    {**_CLIENT, "Settings": STRINGS, "RegistrationType": INTEGER},
    enums={"RegistrationType": REGISTRATION_TYPE},
    activity_field="RegistrationType",
)
CLIENT_STATUS_CHANGED = Contract(
    "ClientStatusChanged",
    {
        **_CLIENT,
        **_VERSIONS,
        "ConnectionEvent": INTEGER,
        "StartTime": TIMESTAMP,
        "IpAddress": STRING,
        "Hostname": STRING,
    },
    enums={"ConnectionEvent": CONNECTION_EVENT},
    activity_field="ConnectionEvent",
)
HEALTH_STATUS_CHANGED = Contract(
    "HealthStatusChanged",
    {
        **_CLIENT,
        **_VERSIONS,
        "Hostname": STRING,
        "IpAddress": STRING,
        "Status": INTEGER,
        "HealthDetails": OBJECT,
    },
    enums={"Status": HEALTH_STATUS},
    activity_field="Status",
)
MIN_RUN_SESSIONS = Contract(
    "MinRunSessions",
    {**_CLIENT, "RunSessions": INTEGER, "RunSessionsEvent": INTEGER},
    enums={"RunSessionsEvent": RUN_SESSIONS_EVENT},
    activity_field="RunSessionsEvent",
)
MEMORY_LEAK_DETECTED = Contract(  # removed from Fig in Feb 2025; older servers still send it
    "MemoryLeakDetected",
    {
        **_CLIENT,
        "TrendLineSlope": NUMBER,
        "StartingBytesAverage": NUMBER,
        "EndingBytesAverage": NUMBER,
        "SecondsAnalyzed": INTEGER,
        "DataPointsAnalyzed": INTEGER,
    },
)
CONFIGURATION_ERROR = Contract(  # removed from Fig in May 2025; older servers still send it
    "ConfigurationError",
    {**_CLIENT, **_VERSIONS, "Status": INTEGER, "ConfigurationErrors": STRINGS},
    enums={"Status": CONFIGURATION_STATUS},
    activity_field="Status",
)

# Route (as Fig posts it) -> contract. ClientRegistration and ClientHealthChanged are the
# names Fig's own Sentinel connector exposed; they map to the current event types.
ROUTES: Mapping[str, Contract] = {
    "SecurityEvent": SECURITY_EVENT,
    "SettingValueChanged": SETTING_VALUE_CHANGED,
    "NewClientRegistration": CLIENT_REGISTRATION,
    "UpdatedClientRegistration": CLIENT_REGISTRATION,
    "ClientRegistration": CLIENT_REGISTRATION,
    "ClientStatusChanged": CLIENT_STATUS_CHANGED,
    "HealthStatusChanged": HEALTH_STATUS_CHANGED,
    "ClientHealthChanged": HEALTH_STATUS_CHANGED,
    "MinRunSessions": MIN_RUN_SESSIONS,
    "MemoryLeakDetected": MEMORY_LEAK_DETECTED,
    "ConfigurationError": CONFIGURATION_ERROR,
}
# The event types rows carry (and FIG_EVENT_TYPES names): registrations split by type.
EVENT_TYPES = frozenset(
    {c.event_type for c in ROUTES.values()} - {"ClientRegistration"}
    | {"NewClientRegistration", "UpdatedClientRegistration"}
)
