"""The one request pipeline every HTTP edge goes through: webhooks, cases, callbacks, ops.

Each edge declares an :class:`Endpoint`; :func:`serve` runs its checks in this order, so
each bad input gets its own clear answer and nothing unauthenticated reaches the code
that reads its content:

1. method (405 with ``Allow``) and route (404): public facts, no setting or secret needed;
2. the body size (413), from the declared length first; reading the limit may read the
   settings (503 ``ConfigurationError``, details only in the log and at /api/health);
3. the sender's credentials (401; 503 when the secret store cannot be read);
4. the handler: the body (400, 415) and the work (2xx, 404, 503 with ``Retry-After``).

Every outcome is counted under the endpoint's name for ``BridgeHealth_CL``, and every
error becomes the same JSON body (``shared.errors.error_body``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from shared.errors import (
    BridgeError,
    MethodNotAllowed,
    PayloadTooLarge,
    error_body,
    retry_after_seconds,
)
from shared.inbound.request import InboundRequest
from shared.telemetry.counting import Telemetry, record_reply

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    """What the edge turns into an HTTP response."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class Endpoint(Protocol):
    """One HTTP edge, as the pipeline sees it. Building one reads no setting."""

    @property
    def name(self) -> str:
        """What its replies are counted and logged under (a source's name, ``ops``...)."""
        ...

    @property
    def methods(self) -> frozenset[str]:
        """The methods it takes."""
        ...

    def check_route(self) -> None:
        """Raise UnknownEventType (404) for a route that does not exist (public facts)."""
        ...

    def max_body_bytes(self) -> int:
        """The largest body it takes (may read the settings: ConfigError)."""
        ...

    async def authenticate(self, request: InboundRequest) -> None:
        """Return if the sender is who it must be (Unauthorized, SecretMissing...)."""
        ...

    async def handle(self, request: InboundRequest) -> Reply:
        """Read the body and do the work."""
        ...


async def serve(
    endpoint: Endpoint, request: InboundRequest, telemetry: Callable[[], Telemetry]
) -> Reply:
    """Answer ``request`` at ``endpoint`` (see the module docstring for the order)."""
    code: str | None = None
    try:
        if request.method.upper() not in endpoint.methods:
            raise MethodNotAllowed(endpoint.methods)
        endpoint.check_route()
        check_size(request, endpoint.max_body_bytes())
        await endpoint.authenticate(request)
        reply = await endpoint.handle(request)
    except BridgeError as error:
        reply, code = error_reply(error, source=endpoint.name), error.code
    record_reply(telemetry(), endpoint.name, reply.status, code)
    return reply


OPS_BODY_BYTES = 64 * 1024
"""The largest body an ops route takes (a list of dead-letter names)."""


@dataclass(frozen=True)
class OpsEndpoint:
    """A route the platform's master key guards (ADMIN level): the host checked the key."""

    name: str
    methods: frozenset[str]
    run: Callable[[InboundRequest], Awaitable[Reply]]

    def check_route(self) -> None:
        """Ops routes have no sub-routes of their own."""

    def max_body_bytes(self) -> int:
        """A small fixed limit: ops bodies are lists of names."""
        return OPS_BODY_BYTES

    async def authenticate(self, request: InboundRequest) -> None:
        """Nothing more: only the master key reaches an ADMIN route."""

    async def handle(self, request: InboundRequest) -> Reply:
        """Run the route's handler."""
        return await self.run(request)


def check_size(request: InboundRequest, max_body_bytes: int) -> None:
    """Refuse a body over the limit, from its declared length first (413)."""
    declared = request.headers.get("content-length", "")
    too_large = PayloadTooLarge(f"The body is larger than {max_body_bytes} bytes.")
    if declared.isdigit() and int(declared) > max_body_bytes:
        raise too_large
    if len(request.body) > max_body_bytes:
        raise too_large


def error_reply(error: BridgeError, *, source: str) -> Reply:
    """The reply for an error: its status, the JSON error body, ``Retry-After`` on 503 and
    429, ``Allow`` on 405."""
    headers: dict[str, str] = {}
    retry_after = retry_after_seconds(error)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if isinstance(error, MethodNotAllowed):
        headers["Allow"] = ", ".join(sorted(error.allowed))
    if error.status >= 500:
        logger.warning("%s request not accepted: %s (%s)", source, error.code, error)
    else:
        logger.info("%s request refused: %d %s", source, error.status, error.code)
    return Reply(error.status, error_body(error), headers)
