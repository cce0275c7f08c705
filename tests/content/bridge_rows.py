"""Rows as the bridge writes them, for running the content's queries over.

Each helper sends a payload through the source's own ``parse`` (the code the function app
runs) and keeps what the intake would send to Sentinel: nothing for a test delivery
(``Parsed.test``), else the rows (Wallarm's test row, marked ``IsTest``, included).
Health rows come from ``shared.telemetry.rows``, the code
the health flush runs. Times are relative to the clock in force, so the rules' ``ago()``
windows see them on any date.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.auth.bcrypt_guard import CheckGate
from shared.auth.fig import FigSecretVerifier
from shared.inbound.request import InboundRequest
from shared.sources import elastic_alerts, fig, wallarm
from shared.sources.base import Source
from shared.telemetry.rows import Gauges, StoredWindow, window_rows
from tests.payloads import parsed

JSON = {"content-type": "application/json"}
WINDOW = timedelta(minutes=5)
# The sources as the root configures them by default (secret names are never read here).
FIG = fig.FigSource(
    secret_hash_name="fig-secret-hash",
    event_types=None,
    verifier=FigSecretVerifier(),
    gate=CheckGate(),
)
WALLARM = wallarm.WallarmSource(token_header="x-auth-token", token_name="wallarm-token")
ELASTIC = elastic_alerts.ElasticAlertsSource(auth_name="elastic-webhook-auth")


def now() -> datetime:
    """The clock in force (faked or not), aware UTC."""
    return datetime.now(UTC)


def _through(source: Source, route: str, body: Any, received: datetime) -> list[dict[str, Any]]:
    request = InboundRequest("POST", JSON, json.dumps(body).encode(), received)
    result = source.parse(route, request)
    return [] if result.test else [dict(row) for row in result.rows]


def fig_rows(
    route: str, body: Mapping[str, Any], *, ago: timedelta, **changes: Any
) -> list[dict[str, Any]]:
    """A Fig webhook's row: ``body`` with ``changes``, its Timestamp ``ago`` before now."""
    moment = now() - ago
    event = {**body, **changes}
    if "Timestamp" in event:
        event["Timestamp"] = moment.isoformat().replace("+00:00", "Z")
    return _through(FIG, route, event, moment)


def fig_login(*, ago: timedelta, success: bool, **changes: Any) -> list[dict[str, Any]]:
    """One Fig login from the reference payload (admin from 203.0.113.10 unless changed)."""
    body = parsed("fig_security_event_failed_login.json")
    return fig_rows("SecurityEvent", body, ago=ago, Success=success, **changes)


def wallarm_rows(notifications: Sequence[Any], *, ago: timedelta) -> list[dict[str, Any]]:
    """Rows of one Wallarm batch received ``ago`` before now."""
    return _through(WALLARM, "", list(notifications), now() - ago)


def wallarm_hit(remote: str, request_id: str, *, ago: timedelta, test: bool = False) -> Any:
    """The reference hit from ``remote`` with its own request id, sent ``ago`` before now."""
    hit = parsed("wallarm_hit.json")[0]
    details = hit["details"]["hit"]
    details |= {"remote_addr4": remote, "request_id": request_id}
    seconds = int((now() - ago).timestamp())
    details |= {"request_time": seconds, "create_time": seconds}
    if test:
        hit["summary"] = "[Test message] " + hit["summary"]
    return hit


def wallarm_notification(kind: str, **details: Any) -> Any:
    """A Wallarm notification of ``kind`` with these details (summary from the kind)."""
    return {
        "summary": f"[Wallarm] {kind}",
        "description": f"Notification type: {kind}",
        "details": {"client_name": "TestCompany", "notification_type": kind, **details},
    }


def elastic_rows(alert: Mapping[str, Any], *, ago: timedelta) -> list[dict[str, Any]]:
    """The row of one Kibana alert document received ``ago`` before now."""
    return _through(ELASTIC, "", [alert], now() - ago)


def window_start(ago: timedelta) -> datetime:
    """The start of the 5-minute health window that was current ``ago`` before now."""
    moment = now() - ago
    return moment.replace(minute=moment.minute - moment.minute % 5, second=0, microsecond=0)


def health_rows(
    counts: Mapping[tuple[str, str, str], int],
    *,
    ago: timedelta,
    gauges: Gauges | None = None,
    bridge: str = "func-sbridge",
) -> list[dict[str, Any]]:
    """The BridgeHealth_CL rows of one window ``ago`` before now (ended, never in the future)."""
    start = window_start(ago + WINDOW)
    window = StoredWindow(start=start, writers={"instance-1": dict(counts)})
    return window_rows(window, bridge=bridge, gauges=gauges or Gauges(), reported_at=start + WINDOW)
