"""Fig (the open-source configuration server) webhooks: contracts, validation, normalization.

Fig posts each event to ``{BaseUri}{Route}`` as Newtonsoft JSON: PascalCase names, enums
as integers, nulls written, times with up to 7 fractional digits. The contracts below
are data, walked by one loop; each row lands in ``FigEvents_CL``.

Severity rule (also in the README): a failed login is Medium; a client health of
Unhealthy is High and Degraded is Medium; run sessions BelowMinimum is Medium; anything
else is Informational.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.auth.bcrypt_guard import CheckGate
from shared.auth.fig import FigSecretAuth, FigSecretVerifier
from shared.errors import ConfigError, MalformedPayload, UnknownEventType
from shared.inbound.jsonbody import parse_json_object
from shared.inbound.request import InboundRequest
from shared.rows.eventid import event_id
from shared.rows.schema import TableSchema, load_table
from shared.rows.timepolicy import parse_timestamp, time_generated
from shared.sources.base import Parsed, SourceRoute
from shared.sources.fig_contracts import (
    BOOLEAN,
    CLIENT_REGISTRATION,
    DIRECT_COLUMNS,
    EVENT_TYPES,
    HEALTH_STATUS,
    INTEGER,
    NUMBER,
    OBJECT,
    ROUTES,
    SEVERITY_RULES,
    STRING,
    STRINGS,
    TIMESTAMP,
    Contract,
)
from shared.sources.media import check_json_media

SOURCE_NAME = "fig"
TABLE = "FigEvents_CL"

_ROUTES_BY_LOWER = {route.lower(): route for route in ROUTES}
# The fields that fill a column of their own, per route: the rest go to Details.
_USED_FIELDS = {
    route: frozenset(
        {key for _, key in DIRECT_COLUMNS}
        | {"IsTest"}
        | {f for f in (contract.time_field, contract.activity_field) if f}
    )
    for route, contract in ROUTES.items()
}


@dataclass(frozen=True)
class FigEvent:
    """A validated Fig event: its type, whether it is a test, and its table row."""

    event_type: str
    is_test: bool
    row: dict[str, Any]


def table() -> TableSchema:
    """The table Fig events land in."""
    return load_table(TABLE)


def resolve_route(route: str) -> str:
    """The route as Fig names it (matched without regard to case), or UnknownEventType."""
    canonical = _ROUTES_BY_LOWER.get(route.lower())
    if canonical is None:
        raise UnknownEventType("Fig has no webhook route with that name.")
    return canonical


def normalize(route: str, body: Mapping[str, Any], received: datetime) -> FigEvent:
    """Validate a Fig webhook body for ``route`` and shape its ``FigEvents_CL`` row.

    Args:
        route: the route Fig posted to (already resolved with :func:`resolve_route`).
        body: the parsed JSON object.
        received: when the bridge received it (aware UTC).

    Raises:
        MalformedPayload: a field holds the wrong JSON kind.
    """
    contract = ROUTES[route]
    _check_kinds(contract, body)
    enums = contract.enums
    named = (
        {name: _named(contract, name, value) for name, value in body.items()}
        if enums or "HealthDetails" in body
        else dict(body)
    )
    event_type = _event_type(route, contract, named)
    time_text = body.get(contract.time_field) if contract.time_field else None
    event_time = parse_timestamp(time_text) if time_text is not None else None
    values: dict[str, Any] = {
        column: value for column, key in DIRECT_COLUMNS if (value := named.get(key)) is not None
    }
    activity = named.get(contract.activity_field) if contract.activity_field else None
    used = _USED_FIELDS[route]
    # The event's own text is kept as sent: Fig's 7 fractional digits are KQL's precision.
    use_event_time = event_time is not None and time_generated(event_time, received) == event_time
    values.update(
        TimeGenerated=time_text if use_event_time else received,
        EventTime=time_text,
        ReceivedTime=received,
        EventId=event_id(SOURCE_NAME, event_type, dict(body)),
        EventType=event_type,
        Activity=activity if activity is not None else event_type,
        Severity=_severity(event_type, named),
        Details={key: value for key, value in named.items() if key not in used},
        TruncatedColumns=[],
    )
    return FigEvent(event_type, body.get("IsTest") is True, table().shape_row(values))


def _named(contract: Contract, name: str, value: Any) -> Any:
    """Enum integers as their names, also inside HealthDetails and its components."""
    if name in contract.enums and value is not None:
        return contract.enums[name].get(value, f"Unknown({value})")
    if name == "HealthDetails" and isinstance(value, dict):
        details = {**value, "Status": _health(value.get("Status"))}
        components = value.get("Components")
        if isinstance(components, list):
            details["Components"] = [
                {**c, "Status": _health(c.get("Status"))} if isinstance(c, dict) else c
                for c in components
            ]
        return details
    return value


def _health(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return HEALTH_STATUS.get(value, f"Unknown({value})")
    return value


def _event_type(route: str, contract: Contract, named: Mapping[str, Any]) -> str:
    if contract is not CLIENT_REGISTRATION:
        return contract.event_type
    if route != "ClientRegistration":
        return route
    return (
        "UpdatedClientRegistration"
        if named.get("RegistrationType") == "Updated"
        else "NewClientRegistration"
    )


def _severity(event_type: str, named: Mapping[str, Any]) -> str:
    for rule_type, key, value, severity in SEVERITY_RULES:
        if rule_type == event_type and named.get(key) == value:
            return severity
    return "Informational"


def _check_kinds(contract: Contract, body: Mapping[str, Any]) -> None:
    wrong = [
        name
        for name, kind in contract.fields.items()
        if (value := body.get(name)) is not None and not _IS_KIND[kind](value)
    ]
    if wrong:
        raise MalformedPayload(
            f"Field(s) of the wrong type for {contract.event_type}: {', '.join(sorted(wrong))}."
        )


def _is_timestamp(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parse_timestamp(value)
    except ValueError:
        return False
    return True


# Each JSON kind's test (null, which Fig writes for absent values, is checked before).
_IS_KIND: dict[str, Callable[[Any], bool]] = {
    STRING: lambda value: isinstance(value, str),
    BOOLEAN: lambda value: isinstance(value, bool),
    INTEGER: lambda value: isinstance(value, int) and not isinstance(value, bool),
    NUMBER: lambda value: isinstance(value, int | float) and not isinstance(value, bool),
    STRINGS: lambda value: isinstance(value, list) and all(isinstance(v, str) for v in value),
    OBJECT: lambda value: isinstance(value, dict),
    TIMESTAMP: _is_timestamp,
}


def _check_route(route: str) -> None:
    resolve_route(route)


ROUTE = SourceRoute(SOURCE_NAME, frozenset({"POST"}), _check_route)


class FigSource:
    """Fig as a webhook source (see ``shared.sources.base.Source``)."""

    name = SOURCE_NAME
    off_without_secret = False  # Fig is the bridge's first source: a missing hash is an error
    batch_body_bytes = None  # one event per request: MAX_BODY_BYTES

    def __init__(
        self,
        *,
        secret_hash_name: str,
        event_types: frozenset[str] | None,
        verifier: FigSecretVerifier,
        gate: CheckGate,
    ) -> None:
        """Take the hash's Key Vault secret, the types to forward (None: all), and the
        process's verifier and bcrypt gate, whose memory outlives a rebuild of the source."""
        unknown = sorted((event_types or frozenset()) - EVENT_TYPES)
        if unknown:
            raise ConfigError(
                [
                    f"FIG_EVENT_TYPES names unknown type(s) {', '.join(unknown)}; "
                    f"known: {', '.join(sorted(EVENT_TYPES))}"
                ]
            )
        self.authenticator = FigSecretAuth(secret_hash_name, verifier, gate)
        self._event_types = event_types

    def table(self) -> TableSchema:
        """FigEvents_CL."""
        return table()

    def enabled_event_types(self) -> frozenset[str] | None:
        """FIG_EVENT_TYPES, or None for all."""
        return self._event_types

    def parse(self, route: str, request: InboundRequest) -> Parsed:
        """One Fig event, one row (a declared Content-Type that is not JSON: 415)."""
        check_json_media(request.headers)
        event = normalize(resolve_route(route), parse_json_object(request.body), request.received)
        return Parsed(rows=[event.row], test=event.is_test, event_types=[event.event_type])
