"""Proof under faults: every event answered 2xx reaches Sentinel, none is lost, and a
duplicate appears only where the service's answer was lost after it accepted.

The real app runs in the local functions host, with its queue trigger fed from Azurite;
Sentinel is the ingestion emulator, whose faults (and clock, for long outages) the tests
control. Fig webhooks are sent concurrently over HTTP, as Fig would.
"""

from __future__ import annotations

import asyncio
import collections
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import pytest

from bench.load import security_event
from local.azurite import Azurite
from local.emulators.faults import Fault
from local.emulators.stack import EmulatorStack
from local.host.process import LocalHostProcess
from shared.adapters.retry_storage import build_retry_storage
from tests.azure_fixtures import new_fig_credentials, storage_env
from tests.logscan import remember_log_file
from tests.retry_support import retry_settings

STREAM = "Custom-FigEvents"
pytestmark = pytest.mark.e2e


class ManualClock:
    """The emulators' fault clock, moved by the test: a 10-minute outage in no time."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class World:
    """The app on the local host, its Azurite, the emulators, and what was acknowledged."""

    def __init__(
        self, stack: EmulatorStack, azurite: Azurite, host: LocalHostProcess, clock: ManualClock
    ) -> None:
        self.stack = stack
        self.azurite = azurite
        self.host = host
        self.clock = clock
        self.secret = ""
        self.env: dict[str, str] = {}
        self.acknowledged: list[str] = []
        self._offset = 0

    def send(self, count: int, *, senders: int = 16) -> collections.Counter[int]:
        """POST ``count`` distinct failed logins; remember the EventIds answered 2xx."""
        start, self._offset = self._offset, self._offset + count
        statuses, ids = asyncio.run(self._send(range(start, start + count), senders))
        self.acknowledged += ids
        return statuses

    async def _send(
        self, indices: range, senders: int
    ) -> tuple[collections.Counter[int], list[str]]:
        statuses: collections.Counter[int] = collections.Counter()
        ids: list[str] = []
        pending = list(indices)
        headers = {"Authorization": f"Secret {self.secret}", "Content-Type": "application/json"}
        url = self.host.url("/api/fig/SecurityEvent")
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:

            async def sender() -> None:
                while pending:
                    body = security_event(pending.pop())
                    try:
                        async with session.post(url, data=body, headers=headers) as response:
                            reply = await response.read()
                            statuses[response.status] += 1
                            if 200 <= response.status < 300:
                                ids.extend(json.loads(reply)["eventIds"])
                    except aiohttp.ClientError:
                        statuses[0] += 1  # no answer: the sender would retry; not acknowledged

            await asyncio.gather(*(sender() for _ in range(senders)))
        return statuses, ids

    def queue_depth(self) -> int:
        """Messages on the retry queue (waiting, delayed or being handled)."""
        storage = build_retry_storage(retry_settings(self.env), None)
        return asyncio.run(storage.queue.depth())

    def landed(self) -> collections.Counter[str]:
        return collections.Counter(r.row["EventId"] for r in self.stack.ingestion.rows(STREAM))

    def wait_until_delivered(self, *, within: float = 90.0) -> collections.Counter[str]:
        """Wait (bounded) until every acknowledged event landed; return what landed."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            landed = self.landed()
            if all(event_id in landed for event_id in self.acknowledged):
                return landed
            time.sleep(0.25)
        return self.landed()

    def assert_nothing_lost(self, *, duplicates_allowed: bool = False) -> None:
        landed = self.wait_until_delivered()
        missing = [e for e in self.acknowledged if e not in landed]
        assert missing == [], f"{len(missing)} acknowledged event(s) never reached Sentinel"
        if not duplicates_allowed:
            assert [e for e, n in landed.items() if n > 1] == []


@pytest.fixture(scope="module")
def fault_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    scratch = tmp_path_factory.mktemp("faults")
    clock = ManualClock()
    with (
        EmulatorStack(scratch / "emulators", fault_clock=clock) as stack,
        Azurite(scratch / "azurite") as azurite,
    ):
        env = {
            **stack.app_environment(),
            **storage_env(azurite),
            "LOCAL_HOST_MAX_POLLING_INTERVAL_SECONDS": "0.2",
            "INCIDENT_POLL_SCHEDULE": "0 */5 * * * *",
            "RETRY_BASE_SECONDS": "0.2",
            "RETRY_MAX_SECONDS": "1",
        }
        log_path = Path(scratch) / "host.log"
        remember_log_file(log_path)
        with LocalHostProcess(env=env, log_path=log_path) as host:
            world = World(stack, azurite, host, clock)
            credentials = new_fig_credentials()
            stack.keyvault.set_secret("fig-secret-hash", credentials.hash)
            world.secret = credentials.secret
            world.env = env
            yield world


@pytest.fixture
def world(fault_world: World) -> World:
    fault_world.stack.ingestion.reset()
    fault_world.acknowledged = []
    return fault_world


def fault_for(world: World, seconds: float, **rule: object) -> Callable[[], None]:
    """Add a fault for ``seconds`` of the emulator's clock; return a way to end it."""
    world.stack.ingestion.faults.add(Fault(for_seconds=seconds, **rule))  # type: ignore[arg-type]

    def end() -> None:
        world.clock.now += seconds + 1

    return end


def test_a_429_storm_with_retry_after_loses_nothing(world: World) -> None:
    """Throttled for a while: every event is answered 202 and lands once, after the storm."""
    end_storm = fault_for(world, 600, status=429, retry_after=1)
    statuses = world.send(150)
    assert set(statuses) == {202}
    assert world.landed() == {}
    end_storm()
    world.assert_nothing_lost()


def test_an_outage_queues_a_message_per_coalesced_upload_not_per_webhook(world: World) -> None:
    """Refused together, queued together: far fewer messages than webhooks; all land once."""
    end_outage = fault_for(world, 600, status=503)
    statuses = world.send(400, senders=32)
    assert set(statuses) == {202}
    depth = world.queue_depth()
    assert 0 < depth <= 400 // 4, f"{depth} queue messages for 400 webhooks"
    end_outage()
    world.assert_nothing_lost()


def test_throttling_while_draining_is_paced_and_loses_nothing(world: World) -> None:
    """429 + Retry-After as the outage ends: the worker waits it out; every event lands once."""
    end_outage = fault_for(world, 600, status=503)
    assert set(world.send(300, senders=32)) == {202}
    applied = world.stack.ingestion.faults.applied
    log_offset = len(world.host.logs())
    world.stack.ingestion.faults.add(Fault(status=429, retry_after=1, times=3))
    end_outage()
    world.assert_nothing_lost()
    assert world.stack.ingestion.faults.applied >= applied + 3  # the 429s were met
    requeued = [
        line
        for line in world.host.logs()[log_offset:].splitlines()
        if "failed (Logs Ingestion answered 429)" in line
    ]
    assert requeued == [], "a 429 re-queued a message instead of pausing the stream"


def test_5xx_bursts_lose_nothing(world: World) -> None:
    """Every other request fails with 500 or 503 for a while: all events land, once."""
    world.stack.ingestion.faults.add(Fault(status=503, times=20))
    world.stack.ingestion.faults.add(Fault(status=500, times=20))
    statuses = world.send(200)
    assert set(statuses) == {202}
    world.assert_nothing_lost()


def test_a_ten_minute_outage_is_drained_after_recovery(world: World) -> None:
    """Ingestion down for 10 minutes (by its clock): events queue, then all land once."""
    end_outage = fault_for(world, 600, status=503)
    world.send(100)
    assert world.landed() == {}
    end_outage()
    world.assert_nothing_lost()


def test_a_role_still_propagating_holds_events_until_it_clears(world: World) -> None:
    """403 until the role assignment takes effect: queued meanwhile, delivered after."""
    world.stack.ingestion.role_missing = True
    assert set(world.send(60)) == {202}
    assert world.landed() == {}
    world.stack.ingestion.role_missing = False
    world.assert_nothing_lost()


def test_a_lost_answer_duplicates_only_with_the_same_event_id(world: World) -> None:
    """The service accepts but its answer is lost: a duplicate may land, with the same EventId."""
    world.stack.ingestion.faults.add(Fault(status=500, accept_then_fail=True, times=3))
    world.send(60)
    world.assert_nothing_lost(duplicates_allowed=True)
    duplicated = [e for e, n in world.landed().items() if n > 1]
    assert set(duplicated) <= set(world.acknowledged)


def test_key_vault_and_token_outages_do_not_stop_a_warm_bridge(world: World) -> None:
    """With the hash and tokens cached, Key Vault and the identity endpoint can go away."""
    world.send(5)  # warm: hash read, tokens issued
    world.stack.stop_emulator("keyvault")
    world.stack.stop_emulator("identity")
    try:
        assert set(world.send(40)) == {202}
    finally:
        world.stack.start_emulator("keyvault")
        world.stack.start_emulator("identity")
    world.assert_nothing_lost()


def test_azurite_restarted_mid_run_loses_nothing(world: World) -> None:
    """Queued events survive a storage restart and are delivered after it."""
    end_outage = fault_for(world, 600, status=503)
    world.send(60)
    world.azurite.restart()
    end_outage()
    world.assert_nothing_lost()


def test_the_host_killed_during_load_loses_nothing_it_acknowledged(world: World) -> None:
    """SIGKILL of the host mid-load, then a restart: every event answered 2xx lands.

    Requests cut off by the kill got no answer, so their senders would retry them; the
    invariant is about what the bridge acknowledged.
    """
    end_outage = fault_for(world, 600, status=503)
    load = threading.Thread(target=world.send, args=(400,), kwargs={"senders": 8})
    load.start()
    deadline = time.monotonic() + 30
    while world.stack.ingestion.faults.applied < 20 and time.monotonic() < deadline:
        time.sleep(0.05)  # until the load is well under way
    assert load.is_alive(), "the kill must land during the load"
    world.host.kill()
    load.join()
    world.host.start()
    end_outage()
    world.send(20)
    world.assert_nothing_lost()
