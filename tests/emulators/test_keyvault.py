"""The Key Vault emulator, through azure-keyvault-secrets' SecretClient."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from azure.core.credentials import TokenCredential
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
)
from azure.identity import ManagedIdentityCredential
from azure.keyvault.secrets import SecretClient

from local.emulators import EmulatorStack
from tests.emulators.conftest import StaticTokenCredential


def secret_client(stack: EmulatorStack, credential: TokenCredential, ca: str) -> SecretClient:
    """A SecretClient as the app builds it for the local vault."""
    return SecretClient(
        stack.vault_url,
        credential,
        verify_challenge_resource=False,
        connection_verify=ca,
        retry_total=0,
    )


@pytest.fixture
def client(
    stack: EmulatorStack, credential: ManagedIdentityCredential, ca: str
) -> Iterator[SecretClient]:
    """A SecretClient authenticated by the emulated managed identity."""
    with secret_client(stack, credential, ca) as vault:
        yield vault


def test_request_without_token_gets_the_challenge(stack: EmulatorStack, ca: str) -> None:
    """An unauthenticated GET is answered 401 with the Key Vault bearer challenge."""
    stack.keyvault.set_secret("fig-secret-hash", "x")
    response = requests.get(
        f"{stack.vault_url}secrets/fig-secret-hash/",
        params={"api-version": "7.5"},
        verify=ca,
        timeout=5,
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer authorization="https://login.microsoftonline.com/{stack.tenant_id}", '
        'resource="https://vault.azure.net"'
    )
    assert stack.keyvault.reads() == 0


def test_secret_is_read_after_the_challenge_with_a_vault_token(
    stack: EmulatorStack, client: SecretClient
) -> None:
    """The SDK answers the challenge with a vault token, then reads the latest version."""
    version = stack.keyvault.set_secret("fig-secret-hash", "hash-1")
    secret = client.get_secret("fig-secret-hash")
    assert (secret.value, secret.properties.version) == ("hash-1", version)
    assert secret.properties.enabled is True
    assert stack.keyvault.reads("fig-secret-hash") == 1
    assert stack.identity.tokens_issued("https://vault.azure.net") == 1


def test_rotation_makes_a_new_latest_version_and_keeps_the_old_one(
    stack: EmulatorStack, client: SecretClient
) -> None:
    """After a rotation the latest is the new value; the old version is still addressable."""
    old_version = stack.keyvault.set_secret("fig-secret-hash", "old")
    stack.keyvault.set_secret("fig-secret-hash", "new")
    assert client.get_secret("fig-secret-hash").value == "new"
    assert client.get_secret("fig-secret-hash", old_version).value == "old"
    assert stack.keyvault.reads("fig-secret-hash") == 2


def test_set_secret_through_the_sdk_creates_a_version(
    stack: EmulatorStack, client: SecretClient
) -> None:
    """SecretClient.set_secret stores a new version that reads back with its content type."""
    first = client.set_secret("api-token", "one")
    second = client.set_secret("api-token", "two", content_type="text/plain")
    assert first.properties.version != second.properties.version
    fetched = client.get_secret("api-token")
    assert (fetched.value, fetched.properties.content_type) == ("two", "text/plain")
    assert stack.keyvault.stats()["writes"] == {"api-token": 2}


def test_unknown_secret_is_secret_not_found(client: SecretClient) -> None:
    """A missing secret raises ResourceNotFoundError with code SecretNotFound."""
    with pytest.raises(ResourceNotFoundError) as raised:
        client.get_secret("missing")
    assert raised.value.error is not None
    assert raised.value.error.code == "SecretNotFound"


def test_disabled_secret_is_forbidden(stack: EmulatorStack, client: SecretClient) -> None:
    """A disabled latest version cannot be read (403 Forbidden)."""
    stack.keyvault.set_secret("fig-secret-hash", "x")
    stack.keyvault.set_enabled("fig-secret-hash", False)
    with pytest.raises(HttpResponseError) as raised:
        client.get_secret("fig-secret-hash")
    assert raised.value.status_code == 403


@pytest.mark.parametrize(
    ("resource", "lifetime"),
    [("https://storage.azure.com", 3600), ("https://vault.azure.net", -60)],
    ids=["wrong-audience", "expired"],
)
def test_unacceptable_tokens_are_refused(
    stack: EmulatorStack, ca: str, resource: str, lifetime: int
) -> None:
    """A token for another audience, or an expired one, gets 401 and reads nothing."""
    stack.keyvault.set_secret("fig-secret-hash", "x")
    token, expires_on = stack.identity.mint(resource, lifetime=lifetime)
    with (
        secret_client(stack, StaticTokenCredential(token, expires_on), ca) as vault,
        pytest.raises(ClientAuthenticationError) as raised,
    ):
        vault.get_secret("fig-secret-hash")
    assert raised.value.status_code == 401
    assert stack.keyvault.reads() == 0


def test_trailing_slash_audience_is_accepted(stack: EmulatorStack, ca: str) -> None:
    """aud https://vault.azure.net/ is as good as the same without the slash."""
    stack.keyvault.set_secret("fig-secret-hash", "x")
    token, expires_on = stack.identity.mint("https://vault.azure.net/")
    with secret_client(stack, StaticTokenCredential(token, expires_on), ca) as vault:
        assert vault.get_secret("fig-secret-hash").value == "x"


def test_admin_route_sets_a_secret(stack: EmulatorStack, client: SecretClient, ca: str) -> None:
    """POST /_emulator/secrets/{name} stores a version the SDK then reads."""
    response = requests.post(
        f"{stack.vault_url}_emulator/secrets/webhook-token",
        json={"value": "s3cret"},
        verify=ca,
        timeout=5,
    )
    assert response.status_code == 201
    secret = client.get_secret("webhook-token")
    assert (secret.value, secret.properties.version) == ("s3cret", response.json()["version"])
