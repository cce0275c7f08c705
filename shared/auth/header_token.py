"""A token in a request header, checked against a secret in Key Vault.

For senders that can add headers but cannot sign (Wallarm, Kibana's webhook connector).
A token may be accepted in several places, e.g. ``X-Auth-Token: <token>`` or
``Authorization: ApiKey <token>``; the first place the request uses decides, and a
malformed value there is a 401, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.auth.common import MAX_CREDENTIAL_LENGTH, matches_any, verify_rotating
from shared.errors import Unauthorized

if TYPE_CHECKING:
    from shared.config.settings import Settings
    from shared.ports import SecretStore
    from shared.sources.base import InboundRequest


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
    """The ``Authenticator`` for a token in a header; header and secret named by settings."""

    def __init__(
        self,
        places: Callable[[Settings], Sequence[TokenPlace]],
        secret_name: Callable[[Settings], str],
    ) -> None:
        """Take where to look for the token and which secret holds it, both from settings."""
        self._places = places
        self._secret_name = secret_name

    async def authenticate(
        self, request: InboundRequest, secrets: SecretStore, settings: Settings
    ) -> None:
        """Check the token against the secret (constant time; rotation followed)."""
        token = presented_token(request.headers, self._places(settings))
        await verify_rotating(
            secrets, [self._secret_name(settings)], lambda values: matches_any(token, values)
        )
