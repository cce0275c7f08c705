"""One emulator stack per session on free loopback ports; state is reset for every test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.core.credentials import AccessToken
from azure.identity import ManagedIdentityCredential
from azure.keyvault.secrets._shared import http_challenge_cache
from azure.mgmt.securityinsight import SecurityInsights
from azure.monitor.query import LogsQueryClient

from local.emulators import EmulatorStack


class FakeClock:
    """A monotonic clock that moves only when told to (for fault windows)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds


class StaticTokenCredential:
    """A TokenCredential that always hands out one given token (wrong audience, expired)."""

    def __init__(self, token: str, expires_on: int) -> None:
        self._token = AccessToken(token, expires_on)
        self.calls = 0

    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        """Return the fixed token whatever the scope."""
        self.calls += 1
        return self._token


@pytest.fixture(scope="session")
def fault_clock() -> FakeClock:
    """The clock every emulator's fault windows are measured with."""
    return FakeClock()


@pytest.fixture(scope="session")
def session_stack(
    tmp_path_factory: pytest.TempPathFactory, fault_clock: FakeClock
) -> Iterator[EmulatorStack]:
    """The emulators, started once on free ports."""
    state_dir: Path = tmp_path_factory.mktemp("emulators")
    with EmulatorStack(state_dir, fault_clock=fault_clock) as stack:
        yield stack


@pytest.fixture
def stack(session_stack: EmulatorStack) -> Iterator[EmulatorStack]:
    """The session's stack with empty state, all emulators up, and no cached KV challenge."""
    session_stack.reset()
    session_stack.keyvault.reset(forget_secrets=True)
    http_challenge_cache.clear()
    yield session_stack
    for name in ("identity", "keyvault", "ingestion"):
        session_stack.start_emulator(name)


@pytest.fixture
def ca(stack: EmulatorStack) -> str:
    """The throwaway CA, for ``connection_verify``."""
    return str(stack.ca_path)


@pytest.fixture
def credential(
    stack: EmulatorStack, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ManagedIdentityCredential]:
    """A real ManagedIdentityCredential in App Service mode, pointed at the emulator."""
    for other_mode in ("IDENTITY_SERVER_THUMBPRINT", "MSI_ENDPOINT", "MSI_SECRET"):
        monkeypatch.delenv(other_mode, raising=False)
    monkeypatch.setenv("IDENTITY_ENDPOINT", stack.identity_endpoint)
    monkeypatch.setenv("IDENTITY_HEADER", stack.identity_header)
    with ManagedIdentityCredential(client_id=stack.client_id) as managed_identity:
        yield managed_identity


@pytest.fixture
def client(
    stack: EmulatorStack, credential: ManagedIdentityCredential, ca: str
) -> Iterator[SecurityInsights]:
    """The real Sentinel SDK client (1.0.0), authenticated by the emulated identity."""
    with SecurityInsights(
        credential,
        stack.sentinel_subscription_id,
        base_url=stack.arm_endpoint,
        connection_verify=ca,
        retry_total=0,
    ) as sdk:
        yield sdk


@pytest.fixture
def logs(
    stack: EmulatorStack, credential: ManagedIdentityCredential, ca: str
) -> Iterator[LogsQueryClient]:
    """The real query client, pointed at the emulator, authenticated by the emulated identity."""
    with LogsQueryClient(
        credential,
        endpoint=stack.logs_query_endpoint,
        audience="https://api.loganalytics.io",
        connection_verify=ca,
        retry_total=0,
    ) as client:
        yield client
