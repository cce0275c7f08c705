"""Standard Webhooks signatures (standardwebhooks.com, spec v1.0.0), verified on raw bytes.

The sender signs ``{webhook-id}.{webhook-timestamp}.{body}`` with HMAC-SHA256 and sends
``webhook-signature: v1,<base64> [v1,<base64> ...]`` (several entries while it rotates
keys). Secrets are ``whsec_`` + base64 of the key. The bridge accepts a list of secrets,
newest first (its own rotation), compares in constant time, and refuses a timestamp more
than ``TOLERANCE`` away from the receive time in either direction: a replay outside that
window is a 401. Repeats of a ``webhook-id`` inside it are the source's business (see
``shared.sources.ingest``), because only a delivered message may be remembered.

Every malformed header is a 401 with the same message; nothing here raises anything else
for bad input. A stored secret that is not base64 is the operator's mistake: ConfigError.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from shared.auth.common import MAX_CREDENTIAL_LENGTH, verify_rotating
from shared.errors import ConfigError, Unauthorized

if TYPE_CHECKING:
    from shared.inbound.request import InboundRequest
    from shared.ports import SecretStore

SECRET_PREFIX = "whsec_"  # noqa: S105  # the format's prefix, not a secret
VERSION = "v1"
TOLERANCE = timedelta(minutes=5)
MAX_ID_LENGTH = 256
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_VISIBLE_ASCII = re.compile(r"[\x21-\x7e]+")


@dataclass(frozen=True)
class SignedHeaders:
    """The three Standard Webhooks headers, checked for form (not yet for truth)."""

    msg_id: str
    timestamp: int
    signatures: tuple[bytes, ...]


def decode_secret(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret (the prefix is optional).

    Raises:
        ConfigError: the stored secret is empty or not base64.
    """
    encoded = secret.strip().removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not key:
        raise ConfigError(["a Standard Webhooks secret in Key Vault is not whsec_<base64>"])
    return key


def sign(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``v1,<base64>`` signature of ``body`` (for senders, tests and docs)."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.digest(key, content, hashlib.sha256)
    return f"{VERSION},{base64.b64encode(digest).decode('ascii')}"


def message_id(headers: Mapping[str, str]) -> str:
    """The ``webhook-id`` header, or Unauthorized when missing or malformed."""
    msg_id = headers.get("webhook-id", "").strip()
    if len(msg_id) > MAX_ID_LENGTH or not _VISIBLE_ASCII.fullmatch(msg_id):
        raise Unauthorized
    return msg_id


def read_headers(headers: Mapping[str, str]) -> SignedHeaders:
    """The signature headers, checked for form.

    Entries of other versions (``v1a`` is ed25519) and undecodable entries are ignored;
    with no usable ``v1`` entry left, the request is refused.

    Raises:
        Unauthorized: a header is missing or malformed.
    """
    msg_id = message_id(headers)
    timestamp = headers.get("webhook-timestamp", "").strip()
    signature = headers.get("webhook-signature", "")
    if not _TIMESTAMP.fullmatch(timestamp) or len(signature) > MAX_CREDENTIAL_LENGTH:
        raise Unauthorized
    signatures = tuple(
        decoded
        # Every signature is tried, as the reference libraries do; the header's length
        # (MAX_CREDENTIAL_LENGTH) already bounds how many there can be.
        for entry in signature.split()
        if (decoded := _decode_entry(entry)) is not None
    )
    if not signatures:
        raise Unauthorized
    return SignedHeaders(msg_id, int(timestamp), signatures)


def check_timestamp(timestamp: int, now: datetime, tolerance: timedelta = TOLERANCE) -> None:
    """Refuse a timestamp further than ``tolerance`` from ``now``, past or future."""
    if abs(now.timestamp() - timestamp) > tolerance.total_seconds():
        raise Unauthorized


def signature_matches(signed: SignedHeaders, body: bytes, keys: Sequence[bytes]) -> bool:
    """True when one of the presented signatures is the HMAC of the message under a key."""
    content = f"{signed.msg_id}.{signed.timestamp}.".encode() + body
    results = [
        hmac.compare_digest(hmac.digest(key, content, hashlib.sha256), presented)
        for key in keys
        for presented in signed.signatures
    ]
    return any(results)


def verify(
    headers: Mapping[str, str],
    body: bytes,
    secrets: Sequence[str],
    now: datetime,
    tolerance: timedelta = TOLERANCE,
) -> str:
    """Verify a message against ``secrets`` (newest first) and return its ``webhook-id``.

    Raises:
        Unauthorized: malformed headers, a timestamp outside ``tolerance``, or no match.
        ConfigError: a secret is not ``whsec_<base64>``.
    """
    signed = read_headers(headers)
    check_timestamp(signed.timestamp, now, tolerance)
    if not signature_matches(signed, body, [decode_secret(s) for s in secrets]):
        raise Unauthorized
    return signed.msg_id


def _decode_entry(entry: str) -> bytes | None:
    version, _, encoded = entry.partition(",")
    if version != VERSION:
        return None
    try:
        decoded = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None
    return decoded if len(decoded) == hashlib.sha256().digest_size else None


class StandardWebhooksAuth:
    """The ``Authenticator`` for Standard Webhooks; the receive time is the clock."""

    def __init__(self, secret_names: Sequence[str], *, tolerance: timedelta = TOLERANCE) -> None:
        """Take the Key Vault secret names (newest first) and the tolerance."""
        self._secret_names = tuple(secret_names)
        self._tolerance = tolerance

    async def authenticate(self, request: InboundRequest, secrets: SecretStore) -> None:
        """Check form and time first (no vault read), then the signature."""
        signed = read_headers(request.headers)
        check_timestamp(signed.timestamp, request.received, self._tolerance)
        await verify_rotating(
            secrets,
            self._secret_names,
            lambda values: signature_matches(
                signed, request.body, [decode_secret(v) for v in values]
            ),
        )
