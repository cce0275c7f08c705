"""The App Service / Functions managed-identity token endpoint, over plain HTTP.

Protocol (reference: azure-functions-and-emulation.md section 9, msal ``managed_identity.py``):
``GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=<resource>[&client_id=<id>]`` with
``X-IDENTITY-HEADER: <IDENTITY_HEADER>``; the answer is ``{"access_token", "expires_on"
(epoch seconds, string), "resource", "token_type": "Bearer", "client_id"}``.

Confirmed: the request and success shapes. Assumed: the error body ``{"statusCode",
"message"}`` (it is what msal reads from a failed answer) and the statuses 400/401.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from aiohttp import web

from local.emulators.faults import ADMIN_PREFIX, FaultPlan, fault_admin_routes, fault_middleware
from local.emulators.tokens import TOKEN_ISSUER_PREFIX, mint_unsigned_jwt

logger = logging.getLogger(__name__)

API_VERSION = "2019-08-01"
DEFAULT_PATH = "/msi/token"


def identity_error_envelope(status: int, code: str, message: str) -> dict[str, Any]:
    """The error body msal reads from the App Service endpoint (``statusCode``, ``message``)."""
    return {"statusCode": status, "message": message, "error": code}


class IdentityEmulator:
    """Mints unsigned JWTs for one user-assigned identity.

    Args:
        tenant_id: The tenant the tokens name (``tid``, ``iss``).
        client_id: The identity's client id; requests naming another one get 400.
        header_secret: The value ``X-IDENTITY-HEADER`` must carry (``IDENTITY_HEADER``).
        path: The endpoint path (``IDENTITY_ENDPOINT`` is ``http://host:port`` + path).
        token_lifetime: Seconds until a minted token expires.
        clock: Epoch seconds, for ``iat``/``nbf``/``exp``.
        fault_clock: Clock for fault windows.
    """

    def __init__(
        self,
        *,
        tenant_id: str,
        client_id: str,
        header_secret: str,
        path: str = DEFAULT_PATH,
        token_lifetime: float = 3600,
        clock: Callable[[], float] = time.time,
        fault_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.tenant_id = tenant_id
        self.client_id = client_id
        self.header_secret = header_secret
        self.path = path
        self.token_lifetime = token_lifetime
        self.object_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"mi:{client_id}"))
        self.faults = FaultPlan(fault_clock)
        self._clock = clock
        self._lock = threading.Lock()
        self._issued: collections.Counter[str] = collections.Counter()
        self._refused = 0
        self.app_roles: dict[str, tuple[str, ...]] = {}
        """Application permissions granted per resource (``roles`` in its tokens), as an
        admin's consent to e.g. Microsoft Graph's ``SecurityIncident.ReadWrite.All`` would."""

    def grant_app_roles(self, resource: str, *roles: str) -> None:
        """Grant (replace) the application roles tokens for ``resource`` carry."""
        self.app_roles[resource.rstrip("/")] = tuple(roles)

    def mint(self, resource: str, *, lifetime: float | None = None) -> tuple[str, int]:
        """Mint a token for ``resource`` without counting it (tests use negative lifetimes).

        Args:
            resource: The audience (``aud``).
            lifetime: Seconds until expiry; default ``token_lifetime``.

        Returns:
            The token and its expiry, epoch seconds.
        """
        now = int(self._clock())
        expires_on = now + int(self.token_lifetime if lifetime is None else lifetime)
        claims = {
            "aud": resource,
            "iss": f"{TOKEN_ISSUER_PREFIX}{self.tenant_id}/",
            "tid": self.tenant_id,
            "oid": self.object_id,
            "sub": self.object_id,
            "appid": self.client_id,
            "idtyp": "app",
            "iat": now,
            "nbf": now,
            "exp": expires_on,
        }
        roles = self.app_roles.get(resource.rstrip("/"))
        if roles:
            claims["roles"] = list(roles)
        return mint_unsigned_jwt(claims), expires_on

    def tokens_issued(self, resource: str | None = None) -> int:
        """How many tokens the endpoint handed out, for one resource or in total."""
        with self._lock:
            return self._issued[resource] if resource else sum(self._issued.values())

    def stats(self) -> dict[str, Any]:
        """Counters for ``/_emulator/stats``."""
        with self._lock:
            return {"tokens_issued": dict(self._issued), "refused": self._refused}

    def reset(self) -> None:
        """Forget counters and faults."""
        self.faults.clear()
        with self._lock:
            self._issued.clear()
            self._refused = 0

    def build_app(self) -> web.Application:
        """A fresh aiohttp app over this emulator's state (one per server start)."""
        app = web.Application(middlewares=[fault_middleware(self.faults, identity_error_envelope)])
        app.add_routes(
            [
                web.get(self.path, self._token),
                web.get(ADMIN_PREFIX + "stats", self._stats),
                *fault_admin_routes(self.faults),
            ]
        )
        return app

    def _refuse(self, status: int, code: str, message: str) -> web.Response:
        with self._lock:
            self._refused += 1
        logger.info("identity: refused (%d %s)", status, code)
        return web.json_response(identity_error_envelope(status, code, message), status=status)

    async def _token(self, request: web.Request) -> web.Response:
        if request.headers.get("X-IDENTITY-HEADER") != self.header_secret:
            return self._refuse(401, "Unauthorized", "X-IDENTITY-HEADER is missing or wrong.")
        query = request.query
        if query.get("api-version") != API_VERSION:
            return self._refuse(400, "BadRequest", f"api-version must be {API_VERSION}.")
        resource = query.get("resource", "")
        if not resource:
            return self._refuse(400, "BadRequest", "The resource parameter is required.")
        requested_client = query.get("client_id", self.client_id)
        if requested_client != self.client_id or "mi_res_id" in query or "object_id" in query:
            return self._refuse(400, "BadRequest", "No managed identity matches the request.")
        token, expires_on = self.mint(resource)
        with self._lock:
            self._issued[resource] += 1
        logger.info("identity: token issued for %s", resource)
        return web.json_response(
            {
                "access_token": token,
                "expires_on": str(expires_on),
                "resource": resource,
                "token_type": "Bearer",
                "client_id": self.client_id,
            }
        )

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())
