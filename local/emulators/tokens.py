"""Unsigned JWTs: minted by the identity emulator, checked by the others.

The tokens carry the claims real Entra ID tokens carry (aud, iss, tid, oid, appid, iat, nbf,
exp) but ``alg`` is ``none`` and there is no signature. The emulators check audience and
expiry only, the way Azurite's ``--oauth basic`` does; they never check a signature, so a
token from here proves nothing outside the loopback test bed.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

TOKEN_ISSUER_PREFIX = "https://sts.windows.net/"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def mint_unsigned_jwt(claims: dict[str, Any]) -> str:
    """Encode ``claims`` as an unsigned JWT (``header.payload.`` with an empty signature).

    Args:
        claims: The payload claims.

    Returns:
        The compact JWT.
    """
    header = {"alg": "none", "typ": "JWT"}
    parts = (json.dumps(header).encode(), json.dumps(claims, separators=(",", ":")).encode())
    return ".".join(_b64url(part) for part in parts) + "."


def decode_claims(token: str) -> dict[str, Any]:
    """Decode a JWT's payload without checking any signature.

    Args:
        token: A compact JWT.

    Returns:
        The payload claims.

    Raises:
        ValueError: The token is not a JWT with a JSON object payload.
    """
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("not a compact JWT")
    padded = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError("JWT payload is not base64url JSON") from exc
    if isinstance(claims, dict):
        return claims
    raise ValueError("JWT payload is not an object")


@dataclass(frozen=True)
class TokenProblem:
    """Why a request's bearer token was refused; ``code`` is the emulator's error code."""

    code: str
    message: str


def audience_matches(audience: object, expected: str) -> bool:
    """Whether a token's aud names ``expected``, with or without a trailing slash."""
    return isinstance(audience, str) and audience.rstrip("/") == expected.rstrip("/")


def check_bearer(request: web.Request, audience: str, now: float) -> TokenProblem | None:
    """Check the request's ``Authorization: Bearer`` token for audience and expiry.

    Args:
        request: The incoming request.
        audience: The audience the service expects (trailing slash optional).
        now: The current time, epoch seconds.

    Returns:
        None when the token is acceptable, else what is wrong with it.
    """
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return TokenProblem("MissingToken", "An Authorization: Bearer token is required.")
    try:
        claims = decode_claims(token.strip())
    except ValueError:
        return TokenProblem("InvalidToken", "The bearer token is not a readable JWT.")
    if not audience_matches(claims.get("aud"), audience):
        return TokenProblem("InvalidAudience", f"The token audience must be {audience}.")
    expires_at = claims.get("exp")
    if not isinstance(expires_at, int | float) or expires_at <= now:
        return TokenProblem("ExpiredToken", "The bearer token has expired.")
    not_before = claims.get("nbf")
    if isinstance(not_before, int | float) and not_before > now + 300:
        # Entra ID allows about five minutes of clock skew.
        return TokenProblem("InvalidToken", "The bearer token is not valid yet.")
    return None
