"""The Log Analytics query API over HTTPS, for the real ``LogsQueryClient``.

``POST /v1/workspaces/{workspaceId}/query`` with ``{"query", "timespan"}`` runs KQL over the
workspace emulator's tables (with its saved functions) and answers
``{"tables": [{"name": "PrimaryResult", "columns": [{"name", "type"}], "rows": [[...]]}]}``.

Confirmed (azure-monitor-query 2.0 source): the path, the body, the token audience
``https://api.loganalytics.io`` (the client's default), ``timespan`` as an ISO 8601 duration
(``PT3600.0S``), ``start/end`` or ``start/duration``, datetime columns read from ISO text.
Assumed: a duration alone ends now; the window filters every table on TimeGenerated; dynamic
values answered as JSON text; errors as ``{"error": {"code", "message"}}`` with
``BadArgumentError`` (400), ``InvalidAuthenticationTokenAudience``/``AuthenticationFailed``
(401) and ``WorkspaceNotFoundError`` (404).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from local.emulators.tokens import check_bearer
from local.emulators.workspace import LogAnalyticsWorkspace

logger = logging.getLogger(__name__)

QUERY_AUDIENCE = "https://api.loganalytics.io"
_DURATION = re.compile(
    r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


class QueryError(Exception):
    """A request the API refuses: status, code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def parse_duration(text: str) -> timedelta | None:
    """An ISO 8601 duration (days, hours, minutes, seconds); None when it is not one."""
    match = _DURATION.match(text)
    if match is None or text in ("P", "PT"):
        return None
    parts = {k: float(v) for k, v in match.groupdict().items() if v is not None}
    return timedelta(
        days=parts.get("d", 0), hours=parts.get("h", 0), minutes=parts.get("m", 0)
    ) + timedelta(seconds=parts.get("s", 0))


def _moment(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_timespan(text: str | None, now: datetime) -> tuple[datetime | None, datetime | None]:
    """The window ``[since, until)`` a timespan names; (None, None) without one.

    Raises:
        QueryError: 400 when it is not a duration, ``start/end`` or ``start/duration``.
    """
    if not text:
        return None, None
    first, _, second = text.partition("/")
    if not second:
        duration = parse_duration(first)
        if duration is not None:
            return now - duration, now
    else:
        start = _moment(first)
        end = _moment(second)
        duration = parse_duration(second)
        if start is not None and end is not None:
            return start, end
        if start is not None and duration is not None:
            return start, start + duration
    raise QueryError(400, "BadArgumentError", f"The timespan {text!r} is not valid.")


def _wire(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if kind == "dynamic":
        return value if isinstance(value, str) else json.dumps(value)
    return value


class LogsQueryEmulator:
    """The query API over one workspace emulator.

    Args:
        workspace: The tables, rows and functions queried.
        clock: Aware "now", for a timespan given as a duration and token expiry.
        audience: The token audience required.
    """

    def __init__(
        self,
        workspace: LogAnalyticsWorkspace,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        audience: str = QUERY_AUDIENCE,
    ) -> None:
        self.workspace = workspace
        self.audience = audience
        self.resource_ids: set[str] = set()
        """The workspace's ARM resource IDs, lower case (``query_resource`` addresses it so)."""
        self._clock = clock

    def build_app(self) -> web.Application:
        """A fresh aiohttp app over the workspace (one per server start)."""
        app = web.Application()
        app.add_routes(
            [
                web.post("/v1/workspaces/{workspace_id}/query", self._query),
                # query_resource: the workspace named by its ARM resource ID.
                web.post("/v1/subscriptions/{resource:.+}/query", self._query),
            ]
        )
        return app

    def _addresses_workspace(self, match: Mapping[str, str]) -> bool:
        if "workspace_id" in match:
            return match["workspace_id"].lower() == self.workspace.customer_id.lower()
        return f"/subscriptions/{match['resource']}".lower() in self.resource_ids

    async def _query(self, request: web.Request) -> web.Response:
        try:
            return await self._answer(request)
        except QueryError as error:
            logger.info("logs query: %d %s", error.status, error.code)
            body = {"error": {"code": error.code, "message": error.message}}
            return web.json_response(body, status=error.status)

    async def _answer(self, request: web.Request) -> web.Response:
        now = self._clock()
        problem = check_bearer(request, self.audience, now.timestamp())
        if problem is not None:
            code = "InvalidAuthenticationTokenAudience"
            code = code if problem.code == "InvalidAudience" else "AuthenticationFailed"
            raise QueryError(401, code, problem.message)
        if not self._addresses_workspace(request.match_info):
            raise QueryError(404, "WorkspaceNotFoundError", "The workspace could not be found.")
        try:
            body = await request.json()
            query = str(body["query"])
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as exc:
            raise QueryError(400, "BadArgumentError", "The body needs a query.") from exc
        since, until = parse_timespan(body.get("timespan"), now)
        try:
            result = self.workspace.query(query, since, until)
        except ValueError as exc:
            raise QueryError(400, "BadArgumentError", f"The query could not run: {exc}") from exc
        columns = [{"name": name, "type": kind} for name, kind in result.columns]
        rows = [
            [_wire(kind, value) for (_, kind), value in zip(result.columns, row, strict=True)]
            for row in result.rows
        ]
        return web.json_response(
            {"tables": [{"name": "PrimaryResult", "columns": columns, "rows": rows}]}
        )
