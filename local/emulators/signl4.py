"""A SIGNL4 inbound-webhook stand-in over HTTPS, recording what the bridge sends.

Confirmed by the reference (payloads.md section 4, signl4/docs ``integrations/webhook``):
``POST https://connect.signl4.com/webhook/{teamSecret}``, the secret in the URL being the only
auth; JSON, text, XML, form-urlencoded or multipart bodies; ``Title``/``Message`` fields and
``X-S4-*`` control fields (``X-S4-ExternalID``, ``X-S4-Status``, ...) given as body keys or
headers. Assumed: the answer ``200 {"eventId": "<uuid>"}`` (the reference says each call
returns an eventId but the shape is not confirmed), 404 for an unknown team secret, and the
error body ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from local.emulators.faults import (
    ADMIN_PREFIX,
    FaultPlan,
    azure_error_envelope,
    fault_admin_routes,
    fault_middleware,
)

logger = logging.getLogger(__name__)

WEBHOOK_PREFIX = "/webhook/"


@dataclass(frozen=True)
class Signl4Request:
    """One accepted webhook call.

    Attributes:
        event_id: The id answered to the caller.
        team_secret: The secret from the URL.
        received_at: When it arrived (ISO-8601, UTC).
        content_type: The request's media type.
        headers: The ``X-S4-*`` headers, as sent.
        query: The query string parameters (``ExtIdParam`` and friends).
        body: The parsed body: a dict for JSON objects and forms, else the text.
        fields: ``X-S4-*`` keys from headers and body merged (the body wins).
    """

    event_id: str
    team_secret: str
    received_at: str
    content_type: str
    headers: dict[str, str]
    query: dict[str, str]
    body: Any
    fields: dict[str, Any] = field(default_factory=dict)


class Signl4Emulator:
    """Accepts SIGNL4 inbound webhooks for known team secrets and keeps each request.

    Args:
        team_secrets: Secrets that name a team; one random secret by default.
        clock: Aware "now" for ``received_at``.
        fault_clock: Clock for fault windows.
    """

    def __init__(
        self,
        *,
        team_secrets: tuple[str, ...] = (),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        fault_clock: Callable[[], float] | None = None,
    ) -> None:
        self.team_secrets = set(team_secrets) or {secrets.token_urlsafe(16)}
        self.faults = FaultPlan() if fault_clock is None else FaultPlan(fault_clock)
        self._clock = clock
        self._lock = threading.Lock()
        self._received: list[Signl4Request] = []
        self._refused = 0

    @property
    def team_secret(self) -> str:
        """One known team secret (the only one unless more were given)."""
        return sorted(self.team_secrets)[0]

    def received(self, team_secret: str | None = None) -> list[Signl4Request]:
        """Accepted requests, oldest first, for one team or all."""
        with self._lock:
            return [r for r in self._received if team_secret in (None, r.team_secret)]

    def stats(self) -> dict[str, Any]:
        """Counters for ``/_emulator/stats``."""
        with self._lock:
            return {"received": len(self._received), "refused": self._refused}

    def reset(self) -> None:
        """Forget requests, counters and faults (team secrets are kept)."""
        self.faults.clear()
        with self._lock:
            self._received.clear()
            self._refused = 0

    def build_app(self) -> web.Application:
        """A fresh aiohttp app over this emulator's state (one per server start)."""
        app = web.Application(middlewares=[fault_middleware(self.faults)])
        app.add_routes(
            [
                web.post(WEBHOOK_PREFIX + "{secret}", self._webhook),
                web.get(ADMIN_PREFIX + "received", self._admin_received),
                web.delete(ADMIN_PREFIX + "received", self._admin_clear),
                web.get(ADMIN_PREFIX + "stats", self._admin_stats),
                *fault_admin_routes(self.faults),
            ]
        )
        return app

    async def _webhook(self, request: web.Request) -> web.Response:
        secret = request.match_info["secret"]
        if secret not in self.team_secrets:
            with self._lock:
                self._refused += 1
            logger.info("signl4: unknown team secret refused")
            body = azure_error_envelope(404, "NotFound", "Unknown team.")
            return web.json_response(body, status=404)
        text = await request.text()
        try:
            parsed = _parse_body(request.content_type, text)
        except ValueError:
            body = azure_error_envelope(400, "BadRequest", "The JSON body cannot be read.")
            return web.json_response(body, status=400)
        headers = {k: v for k, v in request.headers.items() if k.lower().startswith("x-s4-")}
        fields: dict[str, Any] = dict(headers)
        if isinstance(parsed, dict):
            fields.update({k: v for k, v in parsed.items() if k.lower().startswith("x-s4-")})
        entry = Signl4Request(
            event_id=str(uuid.uuid4()),
            team_secret=secret,
            received_at=self._clock().astimezone(UTC).isoformat(),
            content_type=request.content_type,
            headers=headers,
            query=dict(request.query),
            body=parsed,
            fields=fields,
        )
        with self._lock:
            self._received.append(entry)
        logger.info("signl4: event %s accepted (%s)", entry.event_id, entry.content_type)
        return web.json_response({"eventId": entry.event_id})

    async def _admin_received(self, request: web.Request) -> web.Response:
        team = request.query.get("team")
        return web.json_response({"received": [asdict(r) for r in self.received(team)]})

    async def _admin_clear(self, request: web.Request) -> web.Response:
        with self._lock:
            self._received.clear()
        return web.Response(status=204)

    async def _admin_stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())


def _parse_body(content_type: str, text: str) -> Any:
    """JSON and forms become dicts (or lists); any other media type stays text.

    Raises:
        ValueError: The body claims to be JSON and is not.
    """
    if content_type == "application/json":
        return json.loads(text) if text else {}
    if content_type == "application/x-www-form-urlencoded":
        return dict(parse_qsl(text, keep_blank_values=True))
    return text
