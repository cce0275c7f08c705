"""HTTP Basic credentials, alone or as one of two forms a sender may be set up with.

``BasicAuth`` checks ``Authorization: Basic base64(user:password)`` against a secret
holding ``user:password``. ``BasicOrTokenAuth`` serves senders that may be configured
either way (Kibana's webhook connector): a stored value containing ``:`` is Basic
credentials, anything else a token presented in one of the given places.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from shared.auth.common import MAX_CREDENTIAL_LENGTH, equal, matches_any, verify_rotating
from shared.auth.header_token import TokenPlace, presented_token
from shared.errors import Unauthorized

if TYPE_CHECKING:
    from shared.inbound.request import InboundRequest
    from shared.ports import SecretStore

SCHEME = "basic"
_T = TypeVar("_T")


def basic_credentials(authorization: str | None) -> bytes:
    """The decoded ``user:password`` bytes of an ``Authorization: Basic`` header.

    Raises:
        Unauthorized: missing, another scheme, not base64, or no ``:`` in the credentials.
    """
    scheme, _, encoded = (authorization or "").strip().partition(" ")
    encoded = encoded.strip()
    if scheme.lower() != SCHEME or not encoded or len(encoded) > MAX_CREDENTIAL_LENGTH:
        raise Unauthorized
    try:
        decoded = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise Unauthorized from None
    if b":" not in decoded:
        raise Unauthorized
    return decoded


class BasicAuth:
    """The ``Authenticator`` for Basic auth; the secret holds ``user:password``."""

    def __init__(self, secret_name: str) -> None:
        """Take the Key Vault secret's name."""
        self._secret_name = secret_name

    async def authenticate(self, request: InboundRequest, secrets: SecretStore) -> None:
        """Check the Basic credentials against the secret (constant time)."""
        presented = basic_credentials(request.headers.get("authorization"))
        await verify_rotating(
            secrets,
            [self._secret_name],
            lambda values: matches_any(presented, [v.encode("utf-8") for v in values]),
        )


class BasicOrTokenAuth:
    """Basic credentials or a token, whichever form the stored secret has."""

    def __init__(self, secret_name: str, token_places: Sequence[TokenPlace]) -> None:
        """Take the Key Vault secret's name, and where a token may be presented."""
        self._secret_name = secret_name
        self._places = tuple(token_places)

    async def authenticate(self, request: InboundRequest, secrets: SecretStore) -> None:
        """Check whichever credentials the request carries against the secret's form."""
        basic = _or_none(lambda: basic_credentials(request.headers.get("authorization")))
        token = _or_none(lambda: presented_token(request.headers, self._places))
        if basic is None and token is None:
            raise Unauthorized  # nothing well formed: refused before any vault read
        await verify_rotating(
            secrets, [self._secret_name], lambda values: _check(basic, token, values)
        )


def _check(basic: bytes | None, token: str | None, values: Sequence[str]) -> bool:
    results = [
        (basic is not None and equal(basic, value))
        if ":" in value
        else (token is not None and equal(token, value))
        for value in values
    ]
    return any(results)


def _or_none(read: Callable[[], _T]) -> _T | None:
    try:
        return read()
    except Unauthorized:
        return None
