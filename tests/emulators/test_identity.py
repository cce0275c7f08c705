"""The managed-identity endpoint, through azure-identity's ManagedIdentityCredential."""

from __future__ import annotations

import time

import pytest
import requests
from azure.identity import CredentialUnavailableError, ManagedIdentityCredential

from local.emulators import EmulatorStack, Fault
from local.emulators.tokens import decode_claims

MONITOR_SCOPE = "https://monitor.azure.com/.default"


def test_credential_gets_a_token_for_the_requested_resource(
    stack: EmulatorStack, credential: ManagedIdentityCredential
) -> None:
    """The token's aud is the scope's resource and it names the tenant and identity."""
    access = credential.get_token(MONITOR_SCOPE)
    claims = decode_claims(access.token)
    assert claims["aud"] == "https://monitor.azure.com"
    assert claims["iss"] == f"https://sts.windows.net/{stack.tenant_id}/"
    assert (claims["tid"], claims["appid"]) == (stack.tenant_id, stack.client_id)
    assert claims["exp"] == access.expires_on > time.time()
    assert stack.identity.tokens_issued("https://monitor.azure.com") == 1


def test_tokens_are_counted_per_resource(
    stack: EmulatorStack, credential: ManagedIdentityCredential
) -> None:
    """The credential caches per resource, so a second scope costs one more token only."""
    credential.get_token(MONITOR_SCOPE)
    credential.get_token(MONITOR_SCOPE)
    credential.get_token("https://vault.azure.net/.default")
    assert stack.identity.stats()["tokens_issued"] == {
        "https://monitor.azure.com": 1,
        "https://vault.azure.net": 1,
    }


def test_wrong_identity_header_is_refused(
    stack: EmulatorStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the right X-IDENTITY-HEADER the endpoint answers 401 and no token is made."""
    monkeypatch.setenv("IDENTITY_ENDPOINT", stack.identity_endpoint)
    monkeypatch.setenv("IDENTITY_HEADER", "not-the-secret")
    with (
        ManagedIdentityCredential(client_id=stack.client_id) as credential,
        pytest.raises(CredentialUnavailableError, match="401"),
    ):
        credential.get_token(MONITOR_SCOPE)
    assert stack.identity.tokens_issued() == 0
    assert stack.identity.stats()["refused"] == 1


def test_unknown_client_id_and_missing_resource_are_bad_requests(stack: EmulatorStack) -> None:
    """Another identity's client_id, or no resource, gets 400 with statusCode and message."""
    headers = {"X-IDENTITY-HEADER": stack.identity_header}
    base = {"api-version": "2019-08-01", "resource": "https://vault.azure.net"}
    other = requests.get(
        stack.identity_endpoint, params={**base, "client_id": "other"}, headers=headers, timeout=5
    )
    no_resource = requests.get(
        stack.identity_endpoint, params={"api-version": "2019-08-01"}, headers=headers, timeout=5
    )
    assert (other.status_code, no_resource.status_code) == (400, 400)
    assert other.json()["statusCode"] == 400
    assert "message" in no_resource.json()


def test_one_500_from_the_token_endpoint_is_retried_by_the_credential(
    stack: EmulatorStack, credential: ManagedIdentityCredential
) -> None:
    """azure-identity retries a 500 itself, so one injected 500 costs a retry, not a failure."""
    stack.identity.faults.add(Fault(status=500, times=1))
    assert credential.get_token(MONITOR_SCOPE).token
    assert stack.identity.faults.applied == 1
    assert stack.identity.tokens_issued() == 1


def test_a_refused_token_request_fails_get_token_until_the_fault_ends(
    stack: EmulatorStack, credential: ManagedIdentityCredential
) -> None:
    """A 400 from the token endpoint fails get_token; the next call succeeds."""
    stack.identity.faults.add(Fault(status=400, error_code="BadRequest", times=1))
    with pytest.raises(CredentialUnavailableError, match="400"):
        credential.get_token(MONITOR_SCOPE)
    assert credential.get_token(MONITOR_SCOPE).token
