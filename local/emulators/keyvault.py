"""Key Vault secrets over HTTPS, with the real challenge flow.

Confirmed (reference: azure-functions-and-emulation.md section 8, azure-keyvault-secrets
4.12.0): the SDK's first request carries no ``Authorization``; a 401 with ``WWW-Authenticate:
Bearer authorization="https://login.microsoftonline.com/<tenant>", resource="https://vault.azure.net"``
makes it fetch a token and retry; ``GET /secrets/{name}/`` (latest) and
``/secrets/{name}/{version}``; the secret bundle shape; 404 ``SecretNotFound``.
Assumed: the 401 body text for missing, wrong-audience and expired tokens, and the 403
``Forbidden``/``SecretDisabled`` answer for a disabled secret.
"""

from __future__ import annotations

import collections
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from local.emulators.faults import (
    ADMIN_PREFIX,
    FaultPlan,
    azure_error_envelope,
    fault_admin_routes,
    fault_middleware,
)
from local.emulators.tokens import check_bearer

logger = logging.getLogger(__name__)

VAULT_AUDIENCE = "https://vault.azure.net"
# Key Vault object names: 1-127 letters, digits and dashes.
_SECRET_NAME = re.compile(r"^[0-9A-Za-z-]{1,127}$")


@dataclass
class SecretVersion:
    """One version of a secret as the vault stores it."""

    name: str
    version: str
    value: str
    created: int
    updated: int
    enabled: bool = True
    content_type: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


class KeyVaultEmulator:
    """An in-memory vault answering the Key Vault secrets REST API.

    Args:
        tenant_id: The tenant named in the auth challenge.
        audience: The token audience required (trailing slash optional).
        clock: Epoch seconds, for token expiry and secret timestamps.
        fault_clock: Clock for fault windows.
    """

    def __init__(
        self,
        *,
        tenant_id: str,
        audience: str = VAULT_AUDIENCE,
        clock: Callable[[], float] = time.time,
        fault_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.tenant_id = tenant_id
        self.audience = audience
        self.faults = FaultPlan(fault_clock)
        self._clock = clock
        self._lock = threading.Lock()
        self._secrets: dict[str, list[SecretVersion]] = {}
        self._reads: collections.Counter[str] = collections.Counter()
        self._writes: collections.Counter[str] = collections.Counter()
        self._refused = 0

    @property
    def challenge(self) -> str:
        """The ``WWW-Authenticate`` value of every 401."""
        return (
            f'Bearer authorization="https://login.microsoftonline.com/{self.tenant_id}", '
            f'resource="{self.audience}"'
        )

    def set_secret(
        self,
        name: str,
        value: str,
        *,
        enabled: bool = True,
        content_type: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> str:
        """Store a new version of ``name`` (set or rotate); it becomes the latest.

        Args:
            name: Secret name (letters, digits, dashes).
            value: The secret value.
            enabled: Whether the new version can be read.
            content_type: Optional content type.
            tags: Optional tags.

        Returns:
            The new version id.

        Raises:
            ValueError: The name is not a valid Key Vault name.
        """
        if not _SECRET_NAME.match(name):
            raise ValueError("secret names are 1-127 letters, digits or dashes")
        now = int(self._clock())
        version = SecretVersion(
            name, uuid.uuid4().hex, value, now, now, enabled, content_type, dict(tags or {})
        )
        with self._lock:
            self._secrets.setdefault(name.lower(), []).append(version)
        logger.info("keyvault: secret %s now at version %s", name, version.version)
        return version.version

    def set_enabled(self, name: str, enabled: bool, version: str | None = None) -> None:
        """Enable or disable one version of a secret (the latest by default).

        Args:
            name: Secret name.
            enabled: False makes reads of that version answer 403.
            version: The version id; None means the latest.

        Raises:
            KeyError: No such secret or version.
        """
        with self._lock:
            found = self._find(name, version)
            if found is None:
                raise KeyError(name)
            found.enabled = enabled
            found.updated = int(self._clock())

    def reads(self, name: str | None = None) -> int:
        """Authorised GETs of one secret (or of all), found or not: proves caching."""
        with self._lock:
            return self._reads[name.lower()] if name else sum(self._reads.values())

    def stats(self) -> dict[str, Any]:
        """Counters for ``/_emulator/stats``."""
        with self._lock:
            reads, writes = dict(self._reads), dict(self._writes)
            return {"reads": reads, "writes": writes, "refused": self._refused}

    def reset(self, *, forget_secrets: bool = False) -> None:
        """Forget counters and faults, and the secrets too when asked."""
        self.faults.clear()
        with self._lock:
            self._reads.clear()
            self._writes.clear()
            self._refused = 0
            if forget_secrets:
                self._secrets.clear()

    def build_app(self) -> web.Application:
        """A fresh aiohttp app over this emulator's state (one per server start)."""
        app = web.Application(middlewares=[fault_middleware(self.faults)])
        app.add_routes(
            [
                web.get("/secrets/{name}", self._get_secret),
                web.get(r"/secrets/{name}/{version:[^/]*}", self._get_secret),
                web.put("/secrets/{name}", self._put_secret),
                web.get(ADMIN_PREFIX + "stats", self._stats),
                web.post(ADMIN_PREFIX + "secrets/{name}", self._admin_set_secret),
                *fault_admin_routes(self.faults),
            ]
        )
        return app

    def _find(self, name: str, version: str | None) -> SecretVersion | None:
        versions = self._secrets.get(name.lower(), [])
        if not version:
            return versions[-1] if versions else None
        return next((v for v in versions if v.version == version), None)

    def _unauthorized(self, request: web.Request) -> web.Response | None:
        problem = check_bearer(request, self.audience, self._clock())
        if problem is None:
            return None
        with self._lock:
            self._refused += 1
        if problem.code != "MissingToken":
            logger.info("keyvault: token refused (%s)", problem.code)
        body = azure_error_envelope(401, "Unauthorized", problem.message)
        headers = {"WWW-Authenticate": self.challenge}
        return web.json_response(body, status=401, headers=headers)

    def _bundle(self, request: web.Request, secret: SecretVersion) -> dict[str, Any]:
        bundle: dict[str, Any] = {
            "value": secret.value,
            "id": f"https://{request.host}/secrets/{secret.name}/{secret.version}",
            "attributes": {
                "enabled": secret.enabled,
                "created": secret.created,
                "updated": secret.updated,
                "recoveryLevel": "Recoverable+Purgeable",
                "recoverableDays": 90,
            },
        }
        if secret.tags:
            bundle["tags"] = dict(secret.tags)
        if secret.content_type is not None:
            bundle["contentType"] = secret.content_type
        return bundle

    async def _get_secret(self, request: web.Request) -> web.Response:
        refused = self._unauthorized(request)
        if refused is not None:
            return refused
        name = request.match_info["name"]
        version = request.match_info.get("version") or None
        with self._lock:
            self._reads[name.lower()] += 1
            secret = self._find(name, version)
        if secret is None:
            message = (
                f"A secret with (name/id) {name}{'/' + version if version else ''} was not "
                "found in this key vault. (emulator)"
            )
            return web.json_response(
                azure_error_envelope(404, "SecretNotFound", message), status=404
            )
        if not secret.enabled:
            body = azure_error_envelope(
                403, "Forbidden", "Operation get is not allowed on a disabled secret."
            )
            body["error"]["innererror"] = {"code": "SecretDisabled"}
            return web.json_response(body, status=403)
        return web.json_response(self._bundle(request, secret))

    async def _put_secret(self, request: web.Request) -> web.Response:
        refused = self._unauthorized(request)
        if refused is not None:
            return refused
        name = request.match_info["name"]
        try:
            value, enabled, content_type, tags = _parse_set_secret(await request.json())
            version = self.set_secret(
                name, value, enabled=enabled, content_type=content_type, tags=tags
            )
        except (ValueError, TypeError) as exc:
            body = azure_error_envelope(400, "BadParameter", f"Invalid secret request: {exc}")
            return web.json_response(body, status=400)
        with self._lock:
            self._writes[name.lower()] += 1
            secret = self._find(name, version)
        if secret is None:  # Only if the vault was cleared between the two statements.
            return web.json_response(azure_error_envelope(409, "Conflict", name), status=409)
        return web.json_response(self._bundle(request, secret))

    async def _admin_set_secret(self, request: web.Request) -> web.Response:
        try:
            payload = await request.json()
            version = self.set_secret(
                request.match_info["name"],
                str(payload["value"]),
                enabled=bool(payload.get("enabled", True)),
                content_type=payload.get("content_type"),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return web.json_response(azure_error_envelope(400, "BadRequest", str(exc)), status=400)
        return web.json_response({"version": version}, status=201)

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())


def _parse_set_secret(payload: object) -> tuple[str, bool, str | None, dict[str, str]]:
    """Read a SetSecret body: value, attributes.enabled, contentType and tags."""
    if not isinstance(payload, dict) or not isinstance(payload.get("value"), str):
        raise TypeError("the body must be an object with a string value")
    attributes = payload.get("attributes") or {}
    tags = payload.get("tags") or {}
    if not isinstance(attributes, dict) or not isinstance(tags, dict):
        raise TypeError("attributes and tags must be objects")
    content_type = payload.get("contentType")
    return (
        payload["value"],
        bool(attributes.get("enabled", True)),
        content_type if isinstance(content_type, str) else None,
        {str(k): str(v) for k, v in tags.items()},
    )
