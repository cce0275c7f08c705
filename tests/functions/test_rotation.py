"""Secret rotation with the real Key Vault adapter: the new hash is used without a restart."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime

import pytest

from local.emulators.stack import EmulatorStack
from shared.adapters.keyvault import KeyVaultSecrets
from shared.bootstrap import Edges, root
from shared.inbound.intake import IntakeDeps
from shared.inbound.pipeline import serve
from shared.inbound.request import InboundRequest
from tests.azure_fixtures import FigCredentials, new_fig_credentials
from tests.payloads import FIG_EVENTS, raw

pytestmark = pytest.mark.usefixtures("app_env")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def post(deps: IntakeDeps, credentials: FigCredentials) -> int:
    request = InboundRequest(
        "POST",
        {"authorization": credentials.header},
        raw(FIG_EVENTS["MinRunSessions"]),
        datetime.now(UTC),
    )
    bridge = root()
    endpoint = dataclasses.replace(Edges(bridge).source("fig", "MinRunSessions"), deps=lambda: deps)
    reply = asyncio.run(serve(endpoint, request, bridge.telemetry))
    return reply.status


def test_rotated_hash_is_followed(
    emulators: EmulatorStack, fig_credentials: FigCredentials, app_env: dict[str, str]
) -> None:
    """After rotation the new secret works (once the recheck interval passed), the old fails."""
    wired = root().intake_deps()
    clock = Clock()
    vault = wired.secrets
    assert isinstance(vault, KeyVaultSecrets)
    secrets = KeyVaultSecrets(vault._client, monotonic=clock)
    bridge = dataclasses.replace(wired, secrets=secrets)
    assert post(bridge, fig_credentials) == 202

    rotated = new_fig_credentials()
    emulators.keyvault.set_secret("fig-secret-hash", rotated.hash)
    assert post(bridge, rotated) == 401  # the hash read a moment ago is still the one in use
    clock.now += 31  # past the recheck interval, well inside the cache TTL
    assert post(bridge, rotated) == 202
    assert post(bridge, fig_credentials) == 401
    assert emulators.keyvault.reads("fig-secret-hash") == 2


def test_requests_that_find_the_value_expired_share_one_read(
    emulators: EmulatorStack, fig_credentials: FigCredentials, app_env: dict[str, str]
) -> None:
    """At the end of the TTL, fifty concurrent requests cause one vault read, not fifty."""
    vault = root().intake_deps().secrets
    assert isinstance(vault, KeyVaultSecrets)
    clock = Clock()
    secrets = KeyVaultSecrets(vault._client, monotonic=clock)

    async def burst() -> set[str]:
        return set(await asyncio.gather(*(secrets.get("fig-secret-hash") for _ in range(50))))

    before = emulators.keyvault.reads("fig-secret-hash")
    assert asyncio.run(burst()) == {fig_credentials.hash}
    clock.now += 301  # past the TTL
    assert asyncio.run(burst()) == {fig_credentials.hash}
    assert emulators.keyvault.reads("fig-secret-hash") - before == 2
