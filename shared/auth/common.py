"""What every auth scheme shares: constant-time comparison and secrets that rotate.

Each scheme (header token, Basic, Standard Webhooks; Fig's bcrypt hash keeps its own
memory) reads its secret(s) through the ``SecretStore`` port, by the Key Vault name a
setting holds, and only after the request's credentials have been found well formed: a
malformed or missing header is refused before any vault read. A check that fails is
tried once more against values read afresh (at most ``ROTATION_RECHECK_SECONDS`` old), so
a rotated secret is picked up without a restart and wrong credentials cannot make the
bridge hammer Key Vault.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from shared.errors import SecretMissing, Unauthorized

if TYPE_CHECKING:
    from shared.ports import SecretStore

# Longest credential (header value) worth looking at; longer ones are refused unread.
MAX_CREDENTIAL_LENGTH = 4096
ROTATION_RECHECK_SECONDS = 30.0


def equal(presented: str | bytes, expected: str | bytes) -> bool:
    """Compare two credentials in constant time; text is compared as UTF-8 bytes.

    ``hmac.compare_digest`` raises TypeError for non-ASCII ``str``; encoding first means a
    credential with any character is a plain mismatch, never a 500.
    """
    left = presented.encode("utf-8") if isinstance(presented, str) else presented
    right = expected.encode("utf-8") if isinstance(expected, str) else expected
    return hmac.compare_digest(left, right)


def matches_any(presented: str | bytes, expected: Sequence[str | bytes]) -> bool:
    """True when ``presented`` equals one of ``expected``; every candidate is compared."""
    results = [equal(presented, candidate) for candidate in expected]
    return any(results)


async def read_secrets(
    store: SecretStore, names: Sequence[str], *, max_age: float | None = None
) -> tuple[str, ...]:
    """The values of the named secrets that exist, in the order given (newest first).

    Values are stripped of surrounding whitespace: a secret pasted with a newline still
    works. A name the vault does not have is skipped, so a rotation can name the new
    secret before it is created.

    Raises:
        SecretMissing: none of the names exists (the first name is reported).
        UpstreamUnavailable: the store cannot be read and nothing is cached.
    """
    values: list[str] = []
    for name in names:
        try:
            values.append((await store.get(name, max_age=max_age)).strip())
        except SecretMissing:
            continue
    if not values:
        raise SecretMissing(names[0] if names else "")
    return tuple(values)


async def verify_rotating(
    store: SecretStore, names: Sequence[str], check: Callable[[Sequence[str]], bool]
) -> None:
    """Return when ``check`` accepts the stored values, reading them afresh once if not.

    Args:
        store: the secret store.
        names: Key Vault secret names, newest first.
        check: true when the request's credentials match one of the values.

    Raises:
        Unauthorized: the credentials match neither the cached nor the fresh values.
        SecretMissing: none of the secrets exists.
        UpstreamUnavailable: the store cannot be read and nothing is cached.
    """
    values = await read_secrets(store, names)
    if check(values):
        return
    fresh = await read_secrets(store, names, max_age=ROTATION_RECHECK_SECONDS)
    if fresh == values or not check(fresh):
        raise Unauthorized
