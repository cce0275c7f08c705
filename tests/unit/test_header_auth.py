"""Header token and Basic auth: where tokens may be, constant-time checks, rotation, bad headers."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime

import pytest

from shared.auth.basic import BasicAuth, BasicOrTokenAuth, basic_credentials
from shared.auth.common import equal, matches_any
from shared.auth.header_token import HeaderTokenAuth, TokenPlace, presented_token
from shared.config.settings import Settings
from shared.errors import SecretMissing, Unauthorized
from shared.inbound.request import InboundRequest
from shared.sources.base import Authenticator
from tests.fakes import FakeSecrets
from tests.unit.test_intake import BASE_SETTINGS

SETTINGS = Settings.from_env(BASE_SETTINGS)
TOKEN = "wallarm-3f9c2a7e41d84b6e"
PLACES = (TokenPlace("authorization", "ApiKey"), TokenPlace("x-auth-token"))
RECEIVED = datetime(2025, 6, 1, tzinfo=UTC)


def basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


def run(auth: Authenticator, headers: dict[str, str], secrets: FakeSecrets) -> None:
    request = InboundRequest("POST", headers, b"[]", RECEIVED)
    asyncio.run(auth.authenticate(request, secrets))


def token_auth(settings: Settings = SETTINGS) -> HeaderTokenAuth:
    """Configured as the Wallarm source configures it, from settings."""
    return HeaderTokenAuth(
        (TokenPlace(settings.wallarm_token_header),), settings.wallarm_token_name
    )


def test_equal_never_raises_on_non_ascii() -> None:
    """compare_digest refuses non-ASCII str; equal compares UTF-8 bytes instead."""
    assert equal("é", "é")
    assert not equal("é", "e")
    assert not matches_any("a", [])


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"x-auth-token": " abc "}, "abc"),
        ({"authorization": "ApiKey abc"}, "abc"),
        ({"authorization": "apikey   abc"}, "abc"),
        ({"authorization": "Basic eDp5", "x-auth-token": "abc"}, "abc"),
    ],
)
def test_token_is_found_in_the_first_place_that_carries_it(
    headers: dict[str, str], expected: str
) -> None:
    """A token may be bare or after its scheme word; another scheme is passed over."""
    assert presented_token(headers, PLACES) == expected


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-auth-token": ""},
        {"x-auth-token": "two words"},
        {"x-auth-token": "x" * 5000},
        {"authorization": "ApiKey"},
        {"authorization": "Bearer abc"},
    ],
)
def test_missing_or_malformed_tokens_are_401(headers: dict[str, str]) -> None:
    """No token, an empty, spaced or huge one, or the wrong scheme: Unauthorized."""
    with pytest.raises(Unauthorized):
        presented_token(headers, PLACES)


def test_header_token_matches_the_vault_secret() -> None:
    """The default header X-Auth-Token carries the token stored as wallarm-token."""
    secrets = FakeSecrets({"wallarm-token": TOKEN + "\n"})  # pasted with a newline
    run(token_auth(), {"x-auth-token": TOKEN}, secrets)
    assert secrets.reads == ["wallarm-token"]


def test_header_name_comes_from_settings() -> None:
    """WALLARM_TOKEN_HEADER moves the token to another header."""
    custom = Settings.from_env({**BASE_SETTINGS, "WALLARM_TOKEN_HEADER": "X-Wallarm-Key"})
    secrets = FakeSecrets({"wallarm-token": TOKEN})
    moved = InboundRequest("POST", {"x-wallarm-key": TOKEN}, b"[]", RECEIVED)
    asyncio.run(token_auth(custom).authenticate(moved, secrets))
    default = InboundRequest("POST", {"x-auth-token": TOKEN}, b"[]", RECEIVED)
    with pytest.raises(Unauthorized):  # the default header is no longer read
        asyncio.run(token_auth(custom).authenticate(default, secrets))


@pytest.mark.parametrize("presented", ["wrong", TOKEN + "x", TOKEN[:-1], "é" * 8])
def test_wrong_token_is_401(presented: str) -> None:
    """Any other value is refused, non-ASCII included (no TypeError)."""
    with pytest.raises(Unauthorized):
        run(token_auth(), {"x-auth-token": presented}, FakeSecrets({"wallarm-token": TOKEN}))


def test_malformed_token_is_refused_before_any_vault_read() -> None:
    """Nothing well formed to check: no Key Vault read at all."""
    secrets = FakeSecrets({"wallarm-token": TOKEN})
    with pytest.raises(Unauthorized):
        run(token_auth(), {}, secrets)
    assert secrets.reads == []


def test_missing_secret_is_reported_as_missing() -> None:
    """No token in the vault: SecretMissing (a source off without it answers 404)."""
    with pytest.raises(SecretMissing):
        run(token_auth(), {"x-auth-token": TOKEN}, FakeSecrets())


def test_rotated_token_is_read_again_after_a_mismatch() -> None:
    """A failed check re-reads the secret (max_age), so a new token works without restart."""
    secrets = FakeSecrets({"wallarm-token": "new-token"})
    run(token_auth(), {"x-auth-token": "new-token"}, secrets)
    assert secrets.reads == ["wallarm-token"]
    with pytest.raises(Unauthorized):
        run(token_auth(), {"x-auth-token": TOKEN}, secrets)
    assert secrets.reads == ["wallarm-token"] * 3  # cached read, then one fresh read


@pytest.mark.parametrize(
    "header",
    [None, "", "Basic", "Basic !!!", "Basic " + base64.b64encode(b"nocolon").decode(), "Bearer x"],
)
def test_malformed_basic_headers_are_401(header: str | None) -> None:
    """Missing, another scheme, not base64, or no colon: Unauthorized."""
    with pytest.raises(Unauthorized):
        basic_credentials(header)


def test_basic_credentials_are_decoded() -> None:
    """user:password comes back as bytes, colons in the password kept."""
    assert basic_credentials(basic("elastic:pa:ss")) == b"elastic:pa:ss"


def test_basic_auth_checks_user_and_password() -> None:
    """Only the exact user:password stored in the vault is accepted."""
    auth = BasicAuth(SETTINGS.elastic_auth_name)
    secrets = FakeSecrets({"elastic-webhook-auth": "kibana:s3cret"})
    run(auth, {"authorization": basic("kibana:s3cret")}, secrets)
    for wrong in ("kibana:s3cre", "Kibana:s3cret", "kibana:s3cret "):
        with pytest.raises(Unauthorized):
            run(auth, {"authorization": basic(wrong)}, secrets)


@pytest.mark.parametrize(
    ("stored", "headers"),
    [
        ("kibana:s3cret", {"authorization": basic("kibana:s3cret")}),
        ("tok3n", {"authorization": "ApiKey tok3n"}),
        ("tok3n", {"x-auth-token": "tok3n"}),
    ],
)
def test_basic_or_token_follows_the_stored_form(stored: str, headers: dict[str, str]) -> None:
    """user:password in the vault means Basic; anything else a token (ApiKey or X-Auth-Token)."""
    auth = BasicOrTokenAuth(SETTINGS.elastic_auth_name, PLACES)
    run(auth, headers, FakeSecrets({"elastic-webhook-auth": stored}))


@pytest.mark.parametrize(
    ("stored", "headers"),
    [
        ("kibana:s3cret", {"x-auth-token": "kibana:s3cret"}),  # Basic stored: token refused
        ("tok3n", {"authorization": basic("x:tok3n")}),  # token stored: Basic refused
        ("tok3n", {"authorization": "Bearer tok3n"}),
    ],
)
def test_basic_or_token_refuses_the_other_form(stored: str, headers: dict[str, str]) -> None:
    """Credentials in the form the secret is not in never match."""
    auth = BasicOrTokenAuth(SETTINGS.elastic_auth_name, PLACES)
    with pytest.raises(Unauthorized):
        run(auth, headers, FakeSecrets({"elastic-webhook-auth": stored}))


def test_basic_or_token_without_credentials_reads_no_secret() -> None:
    """No well-formed credentials of either kind: 401 before Key Vault."""
    secrets = FakeSecrets({"elastic-webhook-auth": "tok3n"})
    with pytest.raises(Unauthorized):
        run(BasicOrTokenAuth(SETTINGS.elastic_auth_name, PLACES), {}, secrets)
    assert secrets.reads == []
