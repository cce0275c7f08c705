"""The local Azure for tests: emulators (and Azurite where needed), wired into the app's env."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from azure.keyvault.secrets._shared import http_challenge_cache

from local.azurite import Azurite
from local.emulators.stack import EmulatorStack
from shared.auth.fig import hash_fig_secret
from shared.bootstrap import install_root, root
from tests.logscan import remember_secret


@dataclass
class FigCredentials:
    """A Fig webhook secret and the hash the vault holds for it."""

    secret: str
    hash: str

    @property
    def header(self) -> str:
        return f"Secret {self.secret}"


def new_fig_credentials(rounds: int = 4) -> FigCredentials:
    """A fresh secret like Fig's (a GUID) and its hash (cheap rounds unless asked)."""
    secret = remember_secret(str(uuid.uuid4()))
    return FigCredentials(secret, remember_secret(hash_fig_secret(secret, rounds=rounds)))


@pytest.fixture(scope="session")
def emulators(state_dir: Path) -> Iterator[EmulatorStack]:
    with EmulatorStack(state_dir / "emulators") as stack:
        yield stack


@pytest.fixture(scope="session")
def azurite(state_dir: Path) -> Iterator[Azurite]:
    """One Azurite for the session (queues, blobs, tables)."""
    with Azurite(state_dir / "azurite") as running:
        yield running


def storage_env(azurite: Azurite) -> dict[str, str]:
    """Storage settings on ``azurite`` with a queue, containers, tables and a host id (the
    local host's timer locks) of their own."""
    suffix = uuid.uuid4().hex[:10]
    return {
        "AzureWebJobsStorage": azurite.connection_string,
        "AzureFunctionsWebHost__hostid": f"host-{suffix}",
        "RETRY_QUEUE_NAME": f"retries-{suffix}",
        "RETRY_SPILL_CONTAINER": f"spill-{suffix}",
        "DEAD_LETTER_CONTAINER": f"dead-{suffix}",
        "HEALTH_TABLE_NAME": f"health{suffix}",
    }


@pytest.fixture
def fig_credentials(emulators: EmulatorStack) -> FigCredentials:
    credentials = new_fig_credentials()
    emulators.keyvault.set_secret("fig-secret-hash", credentials.hash)
    return credentials


@pytest.fixture
def app_env(
    emulators: EmulatorStack,
    azurite: Azurite,
    monkeypatch: pytest.MonkeyPatch,
    fig_credentials: FigCredentials,
) -> Iterator[dict[str, str]]:
    """The app's settings pointing at the emulators and Azurite, handed to a fresh root.

    The process environment gets only what the Azure SDKs read themselves (the identity
    endpoint and the CA bundle); the app's own settings reach it through the root alone.
    """
    emulators.ingestion.reset()
    emulators.keyvault.reset()
    emulators.identity.reset()
    environment = {**emulators.app_environment(), **storage_env(azurite)}
    for name in SDK_ENVIRONMENT:
        if name in environment:
            monkeypatch.setenv(name, environment[name])
    http_challenge_cache.clear()
    install_root(environment)
    yield environment
    install_root({})


SDK_ENVIRONMENT = ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "REQUESTS_CA_BUNDLE")
"""What azure-identity and azure-core read from the process environment themselves."""


def fresh_root() -> None:
    """A new root over the same settings: clients (and their caches) built afresh."""
    install_root(root().environ)


def use_settings(**changes: str | None) -> dict[str, str]:
    """Install a root over the current root's settings with ``changes`` (None removes one)."""
    environment = {**root().environ, **{k: v for k, v in changes.items() if v is not None}}
    for name, value in changes.items():
        if value is None:
            environment.pop(name, None)
    install_root(environment)
    return environment
