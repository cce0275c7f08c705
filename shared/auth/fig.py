"""Fig's webhook secret: ``Authorization: Secret <secret>`` checked against Fig's bcrypt hash.

Fig shows ``BCrypt.EnhancedHashPassword(secret)`` when a webhook client is created:
bcrypt (``$2a$11$``) over ``base64(SHA-384(secret))``. The bridge keeps only that hash
(in Key Vault) and never the secret.

bcrypt costs about 0.1 s by design, so a successful check is remembered for a while. The
memory is keyed by an HMAC of the stored hash and the presented secret under a key made
fresh in each process: it holds no secret, nothing in it can be brute-forced offline,
and a rotated hash (a new key) matches nothing remembered for the old one.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

import bcrypt

from shared.errors import ConfigError, Unauthorized

if TYPE_CHECKING:
    from shared.inbound.request import InboundRequest
    from shared.ports import SecretStore

SCHEME = "secret"
# Fig's secrets are GUIDs; anything far longer is not one and is not worth hashing.
MAX_SECRET_LENGTH = 512
HASH_PREFIXES = ("$2a$", "$2b$", "$2y$")
# After a failed check, read the stored hash again (it may have been rotated), but not
# more often than this, so wrong secrets cannot make the bridge hammer Key Vault.
ROTATION_RECHECK_SECONDS = 30.0


def fig_prehash(secret: str) -> bytes:
    """What BCrypt.Net's enhanced mode feeds to bcrypt: base64(SHA-384(UTF-8 secret))."""
    return base64.b64encode(hashlib.sha384(secret.encode("utf-8")).digest())


def hash_fig_secret(secret: str, *, rounds: int = 11) -> str:
    """The hash Fig would show for ``secret`` (for tests, ``make run`` and rotation docs)."""
    salt = bcrypt.gensalt(rounds=rounds, prefix=b"2a")
    return bcrypt.hashpw(fig_prehash(secret), salt).decode("ascii")


def presented_secret(authorization: str | None) -> str:
    """The secret from an ``Authorization: Secret <secret>`` header, or Unauthorized."""
    if not authorization:
        raise Unauthorized
    scheme, _, secret = authorization.strip().partition(" ")
    secret = secret.strip()
    if scheme.lower() != SCHEME or not secret or " " in secret or len(secret) > MAX_SECRET_LENGTH:
        raise Unauthorized
    return secret


class FigSecretVerifier:
    """Checks Fig's secret against the stored hash, remembering successes for ``ttl``."""

    def __init__(
        self,
        *,
        ttl_seconds: float = 600.0,
        max_entries: int = 1024,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._monotonic = monotonic
        self._key = secrets.token_bytes(32)
        self._verified: OrderedDict[bytes, float] = OrderedDict()
        self._lock = threading.Lock()

    def remembered(self, authorization: str | None, stored_hash: str) -> bool:
        """True when this header was verified against this hash within the TTL (no bcrypt)."""
        try:
            digest = self._digest(presented_secret(authorization), stored_hash)
        except Unauthorized:
            return False
        now = self._monotonic()
        with self._lock:
            expires = self._verified.get(digest)
            if expires is None:
                return False
            if expires <= now:
                del self._verified[digest]
                return False
            return True

    def verify(self, authorization: str | None, stored_hash: str) -> None:
        """Raise Unauthorized unless the header's secret matches ``stored_hash``.

        Raises:
            Unauthorized: the header is missing, malformed or holds another secret.
            ConfigError: the stored value is not a bcrypt hash (it was pasted wrongly).
        """
        if not stored_hash.startswith(HASH_PREFIXES) or len(stored_hash) != 60:
            raise ConfigError(["the Fig secret hash in Key Vault is not a bcrypt hash"])
        secret = presented_secret(authorization)
        if self.remembered(authorization, stored_hash):
            return
        try:
            matches = bcrypt.checkpw(fig_prehash(secret), stored_hash.encode("ascii"))
        except ValueError:
            raise ConfigError(["the Fig secret hash in Key Vault is not a bcrypt hash"]) from None
        if not matches:
            raise Unauthorized
        self._remember(self._digest(secret, stored_hash))

    def _digest(self, secret: str, stored_hash: str) -> bytes:
        message = stored_hash.encode("ascii", "replace") + b"\x00" + secret.encode("utf-8")
        return hmac.digest(self._key, message, "sha256")

    def _remember(self, digest: bytes) -> None:
        with self._lock:
            self._verified[digest] = self._monotonic() + self._ttl
            self._verified.move_to_end(digest)
            while len(self._verified) > self._max_entries:
                self._verified.popitem(last=False)


class FigSecretAuth:
    """The ``Authenticator`` for Fig: the hash comes from the vault, rotation is followed."""

    def __init__(self, secret_hash_name: str, verifier: FigSecretVerifier) -> None:
        """Take the Key Vault secret holding the hash, and the process's verifier (memory)."""
        self._secret_hash_name = secret_hash_name
        self._verifier = verifier

    async def authenticate(self, request: InboundRequest, secrets: SecretStore) -> None:
        """Check ``Authorization: Secret <secret>`` against the hash in Key Vault."""
        header = request.headers.get("authorization")
        presented_secret(header)  # malformed headers fail before any vault read
        name = self._secret_hash_name
        stored_hash = await secrets.get(name)
        try:
            await self._check(header, stored_hash)
        except Unauthorized:
            fresh = await secrets.get(name, max_age=ROTATION_RECHECK_SECONDS)
            if fresh == stored_hash:
                raise
            await self._check(header, fresh)

    async def _check(self, header: str | None, stored_hash: str) -> None:
        if not self._verifier.remembered(header, stored_hash):
            # bcrypt takes ~0.1 s of CPU: keep it off the event loop.
            await asyncio.to_thread(self._verifier.verify, header, stored_hash)
