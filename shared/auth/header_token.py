"""A token in a request header, checked against a secret in Key Vault.

For senders that can add headers but cannot sign (Wallarm, Kibana's webhook connector).
A token may be accepted in several places, e.g. ``X-Auth-Token: <token>`` or
``Authorization: ApiKey <token>``; the first place the request uses decides, and a
malformed value there is a 401, never a 500.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.auth.common import MAX_CREDENTIAL_LENGTH, matches_any, verify_rotating
from shared.errors import Unauthorized

if TYPE_CHECKING:
    from shared.inbound.request import InboundRequest
    from shared.ports import SecretStore


@dataclass(frozen=True)
class TokenPlace:
    """Where a token may be presented: a header (lower case) and an optional scheme word."""

    header: str
    scheme: str | None = None


def presented_token(headers: Mapping[str, str], places: Sequence[TokenPlace]) -> str:
    """The token from the first of ``places`` the request uses.

    A header that is present but carries another scheme (``Authorization: Basic ...``
    where ``ApiKey`` is expected) is passed over.

    Raises:
        Unauthorized: no place holds a token, or the token is empty, too long or has spaces.
    """
    for place in places:
        value = headers.get(place.header)
        if value is None:
            continue
        token = value.strip()
        if place.scheme is not None:
            scheme, _, token = token.partition(" ")
            if scheme.lower() != place.scheme.lower():
                continue
            token = token.strip()
        if not token or len(token) > MAX_CREDENTIAL_LENGTH or any(c.isspace() for c in token):
            raise Unauthorized
        return token
    raise Unauthorized


class HeaderTokenAuth:
    """The ``Authenticator`` for a token in a header, configured when it is built."""

    def __init__(self, places: Sequence[TokenPlace], secret_name: str) -> None:
        """Take where to look for the token and the Key Vault secret that holds it."""
        self._places = tuple(places)
        self._secret_name = secret_name

    async def authenticate(self, request: InboundRequest, secrets: SecretStore) -> None:
        """Check the token against the secret (constant time; rotation followed)."""
        token = presented_token(request.headers, self._places)
        await verify_rotating(
            secrets, [self._secret_name], lambda values: matches_any(token, values)
        )
