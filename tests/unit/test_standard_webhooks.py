"""Standard Webhooks: the spec's test vector, rotation, tolerance, malformed headers, mutations."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.auth.standard_webhooks import (
    StandardWebhooksAuth,
    decode_secret,
    read_headers,
    sign,
    verify,
)
from shared.errors import ConfigError, SecretMissing, Unauthorized
from shared.inbound.request import InboundRequest
from tests.fakes import FakeSecrets
from tests.payloads import parsed

VECTOR = parsed("standard_webhooks_test_vector.json")
BODY = VECTOR["body"].encode()
SIGNED_AT = datetime.fromtimestamp(int(VECTOR["headers"]["webhook-timestamp"]), UTC)
OTHER_SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


def headers(**changes: str) -> dict[str, str]:
    return {**VECTOR["headers"], **changes}


def test_published_test_vector_verifies() -> None:
    """The library's vector (secret, id, timestamp, body) verifies and yields the id."""
    assert verify(headers(), BODY, [VECTOR["secret"]], SIGNED_AT) == "msg_p5jXN8AQM9LWM0D4loKWxJek"


def test_sign_reproduces_the_published_signature() -> None:
    """Signing the vector's message gives exactly the published v1 signature."""
    key = decode_secret(VECTOR["secret"])
    stamp = int(VECTOR["headers"]["webhook-timestamp"])
    assert (
        sign(key, VECTOR["headers"]["webhook-id"], stamp, BODY)
        == (VECTOR["headers"]["webhook-signature"])
    )


def test_signed_content_is_id_dot_timestamp_dot_body() -> None:
    """The vector's signed content, signed directly, matches: the format is id.timestamp.body."""
    import hashlib
    import hmac

    digest = hmac.digest(
        decode_secret(VECTOR["secret"]), VECTOR["signed_content"].encode(), hashlib.sha256
    )
    assert "v1," + base64.b64encode(digest).decode() == VECTOR["headers"]["webhook-signature"]


def test_rotation_any_listed_secret_verifies() -> None:
    """Newest first or not, a message signed with any configured secret is accepted."""
    assert verify(headers(), BODY, [OTHER_SECRET, VECTOR["secret"]], SIGNED_AT)
    with pytest.raises(Unauthorized):
        verify(headers(), BODY, [OTHER_SECRET], SIGNED_AT)


def test_sender_rotation_several_signatures_one_valid() -> None:
    """A header listing an old signature, a v1a entry and the valid one is accepted."""
    good = VECTOR["headers"]["webhook-signature"]
    stale = "v1," + base64.b64encode(b"\0" * 32).decode()
    many = f"{stale} v1a,c29tZXRoaW5n {good}"
    assert verify(headers(**{"webhook-signature": many}), BODY, [VECTOR["secret"]], SIGNED_AT)


def test_the_valid_signature_counts_wherever_it_stands() -> None:
    """Every listed signature is tried (not only the first 16), as the reference libraries
    do; the header's length bounds the work."""
    good = VECTOR["headers"]["webhook-signature"]
    stale = "v1," + base64.b64encode(b"\0" * 32).decode()
    many = " ".join([stale] * 40 + [good])
    assert verify(headers(**{"webhook-signature": many}), BODY, [VECTOR["secret"]], SIGNED_AT)


@pytest.mark.parametrize("offset", [timedelta(minutes=5), timedelta(minutes=-5)])
def test_timestamps_within_five_minutes_are_accepted(offset: timedelta) -> None:
    """The tolerance is plus or minus 5 minutes, both ends included."""
    assert verify(headers(), BODY, [VECTOR["secret"]], SIGNED_AT + offset)


@pytest.mark.parametrize(
    "offset", [timedelta(minutes=5, seconds=1), timedelta(minutes=-5, seconds=-1)]
)
def test_replay_outside_tolerance_is_401(offset: timedelta) -> None:
    """A message too old (a replay) or from the future is refused even when signed correctly."""
    with pytest.raises(Unauthorized):
        verify(headers(), BODY, [VECTOR["secret"]], SIGNED_AT + offset)


@pytest.mark.parametrize(
    "changes",
    [
        {"webhook-id": ""},
        {"webhook-id": "has space"},
        {"webhook-id": "x" * 257},
        {"webhook-timestamp": "soon"},
        {"webhook-timestamp": "-1614265330"},
        {"webhook-timestamp": "1614265330.5"},
        {"webhook-timestamp": "9" * 40},
        {"webhook-signature": ""},
        {"webhook-signature": "v1"},
        {"webhook-signature": "v1,"},
        {"webhook-signature": "v1,not base64!"},
        {"webhook-signature": "v1,,,"},
        {"webhook-signature": "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
        {"webhook-signature": "v1,g0hM9SsE"},
        {"webhook-signature": "é" * 10},
        {"webhook-signature": "v1," + "A" * 5000},
    ],
)
def test_malformed_headers_are_401_never_another_error(changes: dict[str, str]) -> None:
    """Each malformed header is Unauthorized: no ValueError, no IndexError, no 500."""
    with pytest.raises(Unauthorized):
        verify(headers(**changes), BODY, [VECTOR["secret"]], SIGNED_AT)


@pytest.mark.parametrize("name", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header_is_401(name: str) -> None:
    """Without any one of the three headers the message is refused."""
    incomplete = {k: v for k, v in headers().items() if k != name}
    with pytest.raises(Unauthorized):
        read_headers(incomplete)


@pytest.mark.parametrize("secret", ["", "whsec_", "whsec_not*base64", "   "])
def test_a_stored_secret_that_is_not_base64_is_a_config_error(secret: str) -> None:
    """The operator's mistake is a 503 with a reason in the log, not a 401 for the sender."""
    with pytest.raises(ConfigError):
        decode_secret(secret)


def test_secret_prefix_is_optional() -> None:
    """A bare base64 key (some tools show it without whsec_) works the same."""
    bare = VECTOR["secret"].removeprefix("whsec_")
    assert decode_secret(bare) == decode_secret(VECTOR["secret"])


@settings(max_examples=150)
@given(body=st.binary(max_size=256), position=st.integers(min_value=0), flip=st.integers(1, 255))
def test_any_body_mutation_fails(body: bytes, position: int, flip: int) -> None:
    """A body signed then changed in any one byte (or extended) no longer verifies."""
    key = decode_secret(VECTOR["secret"])
    stamp = int(SIGNED_AT.timestamp())
    signed = {"webhook-id": "msg_1", "webhook-timestamp": str(stamp)}
    signed["webhook-signature"] = sign(key, "msg_1", stamp, body)
    assert verify(signed, body, [VECTOR["secret"]], SIGNED_AT) == "msg_1"
    if body:
        index = position % len(body)
        mutated = body[:index] + bytes([body[index] ^ flip]) + body[index + 1 :]
    else:
        mutated = bytes([flip])
    with pytest.raises(Unauthorized):
        verify(signed, mutated, [VECTOR["secret"]], SIGNED_AT)
    with pytest.raises(Unauthorized):
        verify(signed, body + b" ", [VECTOR["secret"]], SIGNED_AT)


@settings(max_examples=150)
@given(
    msg_id=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40),
    other_id=st.text(
        st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40
    ),
    shift=st.integers(min_value=-300, max_value=300).filter(lambda s: s != 0),
)
def test_any_id_or_timestamp_change_fails(msg_id: str, other_id: str, shift: int) -> None:
    """The signature covers the id and the timestamp: changing either (within tolerance) fails."""
    key = decode_secret(VECTOR["secret"])
    stamp = int(SIGNED_AT.timestamp())
    signature = sign(key, msg_id, stamp, BODY)
    good = {"webhook-id": msg_id, "webhook-timestamp": str(stamp), "webhook-signature": signature}
    assert verify(good, BODY, [VECTOR["secret"]], SIGNED_AT) == msg_id
    if other_id != msg_id:
        with pytest.raises(Unauthorized):
            verify({**good, "webhook-id": other_id}, BODY, [VECTOR["secret"]], SIGNED_AT)
    with pytest.raises(Unauthorized):
        verify(
            {**good, "webhook-timestamp": str(stamp + shift)}, BODY, [VECTOR["secret"]], SIGNED_AT
        )


def authenticate(secrets: FakeSecrets, request_headers: dict[str, str], **kw: Any) -> None:
    auth = StandardWebhooksAuth(["hook-new", "hook-old"], **kw)
    request = InboundRequest("POST", request_headers, BODY, SIGNED_AT)
    asyncio.run(auth.authenticate(request, secrets))


def test_authenticator_reads_secrets_newest_first_and_skips_a_missing_one() -> None:
    """Rotation in the vault: the new secret may not exist yet; the old one still verifies."""
    secrets = FakeSecrets({"hook-old": VECTOR["secret"]})
    authenticate(secrets, headers())
    assert secrets.reads == ["hook-new", "hook-old"]


def test_authenticator_refuses_malformed_or_stale_before_reading_the_vault() -> None:
    """Bad form or an old timestamp costs no Key Vault read."""
    secrets = FakeSecrets({"hook-old": VECTOR["secret"]})
    for bad in (headers(**{"webhook-signature": "nope"}), headers(**{"webhook-timestamp": "1"})):
        with pytest.raises(Unauthorized):
            authenticate(secrets, bad)
    assert secrets.reads == []


def test_authenticator_without_any_secret_reports_it_missing() -> None:
    """No listed secret exists: SecretMissing, which intake answers 503 (or 404 if optional)."""
    with pytest.raises(SecretMissing):
        authenticate(FakeSecrets(), headers())


def test_authenticator_wrong_secret_is_401() -> None:
    """Secrets that exist but do not match: 401."""
    with pytest.raises(Unauthorized):
        authenticate(FakeSecrets({"hook-new": OTHER_SECRET}), headers())
