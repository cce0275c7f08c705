"""Fig's webhook secret: ``Authorization: Secret <secret>`` checked against Fig's bcrypt hash.

Fig shows ``BCrypt.EnhancedHashPassword(secret)`` when a webhook client is created:
bcrypt (``$2a$11$``) over ``base64(SHA-384(secret))``. The bridge keeps only that hash
(in Key Vault) and never the secret.

bcrypt costs about 0.1 s by design, so a successful check is remembered for a while and
a failed one briefly. The memory is keyed by a keyed BLAKE2b hash of the stored hash and
the presented secret under a key made fresh in each process: it holds no secret, nothing
in it can be brute-forced offline, and a rotated hash matches nothing remembered for the
old one.
bcrypt runs on a small bounded pool of its own; see ``shared.auth.bcrypt_guard``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import bcrypt

from shared.auth.bcrypt_guard import CheckGate, DigestMemory, client_address
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
    """Checks Fig's secret against the stored hash.

    Successes are remembered for ``ttl_seconds`` after their last use, failures for
    ``failure_ttl_seconds``
    (so the same wrong secret costs bcrypt once), both by keyed hash only (see bcrypt_guard).
    """

    def __init__(
        self,
        *,
        ttl_seconds: float = 600.0,
        failure_ttl_seconds: float = 60.0,
        max_entries: int = 1024,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        key = secrets.token_bytes(32)
        self._verified = DigestMemory(
            ttl_seconds=ttl_seconds,
            max_entries=max_entries,
            monotonic=monotonic,
            key=key,
            sliding=True,  # the real sender, while it sends, never needs bcrypt again
        )
        self._failed = DigestMemory(
            ttl_seconds=failure_ttl_seconds,
            max_entries=max_entries * 4,
            monotonic=monotonic,
            key=key,
        )

    def remembered(self, authorization: str | None, stored_hash: str) -> bool:
        """True when this header was verified against this hash within the TTL (no bcrypt)."""
        return self._known(self._verified, authorization, stored_hash)

    def check_key(self, authorization: str, stored_hash: str) -> bytes:
        """A keyed hash naming this secret-and-hash check, never the secret: concurrent
        requests with the same key share one bcrypt run."""
        return self._verified.digest(presented_secret(authorization), stored_hash)

    def refused_recently(self, authorization: str | None, stored_hash: str) -> bool:
        """True when this header failed against this hash within the failure TTL."""
        return self._known(self._failed, authorization, stored_hash)

    def verify(self, authorization: str | None, stored_hash: str) -> None:
        """Raise Unauthorized unless the header's secret matches ``stored_hash``.

        Raises:
            Unauthorized: the header is missing, malformed or holds another secret.
            ConfigError: the stored value is not a bcrypt hash (it was pasted wrongly).
        """
        if not stored_hash.startswith(HASH_PREFIXES) or len(stored_hash) != 60:
            raise ConfigError(["the Fig secret hash in Key Vault is not a bcrypt hash"])
        secret = presented_secret(authorization)
        digest = self._verified.digest(secret, stored_hash)
        if digest in self._verified:
            return
        if digest in self._failed:
            raise Unauthorized
        try:
            matches = bcrypt.checkpw(fig_prehash(secret), stored_hash.encode("ascii"))
        except ValueError:
            raise ConfigError(["the Fig secret hash in Key Vault is not a bcrypt hash"]) from None
        if not matches:
            self._failed.add(digest)
            raise Unauthorized
        self._verified.add(digest)

    @staticmethod
    def _known(memory: DigestMemory, authorization: str | None, stored_hash: str) -> bool:
        try:
            secret = presented_secret(authorization)
        except Unauthorized:
            return False
        return memory.digest(secret, stored_hash) in memory


class FigSecretAuth:
    """The ``Authenticator`` for Fig: the hash comes from the vault, rotation is followed.

    bcrypt runs on this source's own bounded :class:`CheckGate`; a full gate is a 429.
    """

    def __init__(self, secret_hash_name: str, verifier: FigSecretVerifier, gate: CheckGate) -> None:
        """Take the Key Vault secret holding the hash, and the process's verifier (its
        memory) and bcrypt gate, which outlive a rebuild of the source."""
        self._secret_hash_name = secret_hash_name
        self._verifier = verifier
        self._gate = gate
        self._running: dict[bytes, asyncio.Future[None]] = {}

    async def authenticate(self, request: InboundRequest, secrets: SecretStore) -> None:
        """Check ``Authorization: Secret <secret>`` against the hash in Key Vault."""
        header = request.headers.get("authorization")
        presented_secret(header)  # malformed headers fail before any vault read
        client = client_address(request.headers)
        name = self._secret_hash_name
        stored_hash = await secrets.get(name)
        try:
            await self._check(header, stored_hash, client)
        except Unauthorized:
            fresh = await secrets.get(name, max_age=ROTATION_RECHECK_SECONDS)
            if fresh == stored_hash:
                raise
            await self._check(header, fresh, client)

    async def _check(self, header: str | None, stored_hash: str, client: str) -> None:
        if self._verifier.remembered(header, stored_hash):
            return
        if self._verifier.refused_recently(header, stored_hash):
            raise Unauthorized
        key = self._verifier.check_key(header or "", stored_hash)
        running = self._running.get(key)
        if running is not None:  # the same secret is being checked: share that run's answer
            await asyncio.shield(running)
            return
        # bcrypt takes ~0.1 s of CPU: on the gate's own pool, never the event loop's.
        check = asyncio.ensure_future(
            self._gate.run(client, lambda: self._verifier.verify(header, stored_hash))
        )
        self._running[key] = check
        try:
            await check
        except Unauthorized:
            self._gate.failed(client)
            raise
        finally:
            self._running.pop(key, None)
