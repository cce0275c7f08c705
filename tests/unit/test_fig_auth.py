"""Fig's secret against its bcrypt hash: the reference pair, bad headers, memory, rotation."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from shared.auth.fig import FigSecretVerifier, hash_fig_secret, presented_secret
from shared.errors import ConfigError, Unauthorized
from tests.payloads import FIG_REFERENCE_HASH, FIG_REFERENCE_SECRET

GOOD = f"Secret {FIG_REFERENCE_SECRET}"
FAST_SECRET = "0f4f2b6a-3c7e-4d8e-9a1b-2c3d4e5f6a7b"
FAST_HASH = hash_fig_secret(FAST_SECRET, rounds=4)  # same scheme, cheaper: for many checks


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_reference_pair_verifies() -> None:
    """The secret and hash from Fig's own tests match (SHA-384 pre-hash, $2a$11$)."""
    FigSecretVerifier().verify(GOOD, FIG_REFERENCE_HASH)


def test_plain_bcrypt_without_prehash_does_not_verify() -> None:
    """A hash of the raw secret (not Fig's enhanced scheme) does not accept the secret."""
    import bcrypt

    plain = bcrypt.hashpw(FIG_REFERENCE_SECRET.encode(), bcrypt.gensalt(4, b"2a")).decode()
    with pytest.raises(Unauthorized):
        FigSecretVerifier().verify(GOOD, plain)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        FIG_REFERENCE_SECRET,
        f"Bearer {FIG_REFERENCE_SECRET}",
        "Secret",
        "Secret ",
        f"Secret {FIG_REFERENCE_SECRET} extra",
        f"Secret {FIG_REFERENCE_SECRET}x",
        "Secret " + "a" * 600,
    ],
)
def test_missing_malformed_or_wrong_headers_are_unauthorized(header: str | None) -> None:
    """Every way of not presenting the right secret is the same 401."""
    with pytest.raises(Unauthorized) as refused:
        FigSecretVerifier().verify(header, FIG_REFERENCE_HASH)
    assert refused.value.message == "Missing or invalid credentials."


def test_scheme_is_case_insensitive() -> None:
    """'secret' and 'SECRET' are the same scheme."""
    assert presented_secret(f"SECRET {FIG_REFERENCE_SECRET}") == FIG_REFERENCE_SECRET


def test_stored_value_that_is_not_a_hash_is_a_configuration_error() -> None:
    """A plain secret pasted where the hash belongs is reported as config, not as 401."""
    with pytest.raises(ConfigError):
        FigSecretVerifier().verify(GOOD, FIG_REFERENCE_SECRET)


def test_success_is_remembered_until_the_ttl() -> None:
    """After one bcrypt check the same header is remembered, then forgotten after the TTL."""
    clock = Clock()
    verifier = FigSecretVerifier(ttl_seconds=60, monotonic=clock)
    header = f"Secret {FAST_SECRET}"
    assert not verifier.remembered(header, FAST_HASH)
    verifier.verify(header, FAST_HASH)
    assert verifier.remembered(header, FAST_HASH)
    clock.now += 61
    assert not verifier.remembered(header, FAST_HASH)


def test_failures_are_not_remembered_as_successes() -> None:
    """A wrong secret is never remembered, even after a right one."""
    verifier = FigSecretVerifier()
    verifier.verify(f"Secret {FAST_SECRET}", FAST_HASH)
    with pytest.raises(Unauthorized):
        verifier.verify("Secret wrong", FAST_HASH)
    assert not verifier.remembered("Secret wrong", FAST_HASH)


def test_a_rotated_hash_does_not_match_what_was_remembered() -> None:
    """Once the hash changes, the old secret must pass bcrypt against the new hash again."""
    verifier = FigSecretVerifier()
    verifier.verify(f"Secret {FAST_SECRET}", FAST_HASH)
    new_secret = "11111111-2222-3333-4444-555555555555"
    new_hash = hash_fig_secret(new_secret, rounds=4)
    assert not verifier.remembered(f"Secret {FAST_SECRET}", new_hash)
    with pytest.raises(Unauthorized):
        verifier.verify(f"Secret {FAST_SECRET}", new_hash)
    verifier.verify(f"Secret {new_secret}", new_hash)


def test_memory_is_bounded() -> None:
    """Remembered successes are capped; the oldest is forgotten first."""
    verifier = FigSecretVerifier(max_entries=2)
    hashes = {s: hash_fig_secret(s, rounds=4) for s in ("a1", "b2", "c3")}
    for secret, hashed in hashes.items():
        verifier.verify(f"Secret {secret}", hashed)
    assert not verifier.remembered("Secret a1", hashes["a1"])
    assert verifier.remembered("Secret c3", hashes["c3"])


@settings(max_examples=40)
@given(st.text(min_size=1, max_size=80).filter(lambda s: " " not in s.strip() and s.strip()))
def test_no_other_secret_passes(candidate: str) -> None:
    """Whatever else is presented, only the one secret verifies."""
    assume(candidate.strip() != FAST_SECRET)
    with pytest.raises(Unauthorized):
        FigSecretVerifier().verify(f"Secret {candidate}", FAST_HASH)
