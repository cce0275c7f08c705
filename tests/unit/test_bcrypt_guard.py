"""The bcrypt gate: its own bounded pool, 429 when full, failures remembered, per-client budgets."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest

from shared.auth.bcrypt_guard import UNKNOWN_CLIENT, CheckGate, DigestMemory, client_address
from shared.auth.fig import FigSecretAuth, FigSecretVerifier, hash_fig_secret
from shared.config.settings import Settings
from shared.errors import TooManyRequests, Unauthorized, retry_after_seconds
from shared.inbound.request import InboundRequest
from tests.fakes import FakeSecrets
from tests.unit.test_intake import BASE_SETTINGS

T = TypeVar("T")
SETTINGS = Settings.from_env(BASE_SETTINGS)
SECRET = "0f4f2b6a-3c7e-4d8e-9a1b-2c3d4e5f6a7b"
HASH = hash_fig_secret(SECRET, rounds=4)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingGate(CheckGate):
    """A real gate that records how many checks it ran (how many bcrypt calls were paid)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.runs = 0

    async def run(self, client: str, check: Callable[[], T]) -> T:
        self.runs += 1
        return await super().run(client, check)


def request(authorization: str, forwarded: str = "203.0.113.7:50000") -> InboundRequest:
    headers = {"authorization": authorization, "x-forwarded-for": forwarded}
    return InboundRequest("POST", headers, b"{}", datetime.now(UTC))


@pytest.mark.parametrize(
    ("header", "address"),
    [
        ("203.0.113.7:50000", "203.0.113.7"),
        ("203.0.113.7", "203.0.113.7"),
        ("203.0.113.7:1, 10.0.0.1", "203.0.113.7"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),
        ("", UNKNOWN_CLIENT),
    ],
)
def test_client_address_is_the_first_forwarded_hop(header: str, address: str) -> None:
    """The first X-Forwarded-For hop, without its port, names the client."""
    assert client_address({"x-forwarded-for": header} if header else {}) == address


def test_digest_memory_forgets_after_its_ttl_and_is_bounded() -> None:
    """Entries expire, and the oldest goes first once the cap is reached."""
    clock = Clock()
    memory = DigestMemory(ttl_seconds=10, max_entries=2, monotonic=clock)
    a, b, c = (memory.digest(s, HASH) for s in ("a", "b", "c"))
    memory.add(a)
    assert a in memory
    clock.now += 11
    assert a not in memory
    for digest in (a, b, c):
        memory.add(digest)
    assert a not in memory
    assert c in memory


def test_digests_do_not_contain_the_secret_and_differ_per_process() -> None:
    """The stored value is a keyed hash under a per-instance key: no secret, no reuse across."""
    one = DigestMemory(ttl_seconds=1, max_entries=1).digest(SECRET, HASH)
    two = DigestMemory(ttl_seconds=1, max_entries=1).digest(SECRET, HASH)
    assert SECRET.encode() not in one
    assert one != two


def test_a_full_gate_refuses_at_once_with_retry_after() -> None:
    """With every slot busy, the next check is a 429 (Retry-After) and nothing is queued."""

    async def scenario() -> None:
        gate = CheckGate(workers=1, queue=1, per_client=5)
        release = threading.Event()
        busy = [asyncio.ensure_future(gate.run(f"c{i}", release.wait)) for i in range(2)]
        await asyncio.sleep(0)
        assert gate.in_flight == 2
        with pytest.raises(TooManyRequests) as refused:
            await gate.run("c3", lambda: True)
        assert refused.value.status == 429
        assert retry_after_seconds(refused.value) == 1
        assert gate.in_flight == 2
        release.set()
        assert await asyncio.gather(*busy) == [True, True]
        assert gate.in_flight == 0
        assert await gate.run("c3", lambda: "ran") == "ran"

    asyncio.run(scenario())


def test_one_client_cannot_take_the_whole_pool() -> None:
    """A client over its share gets 429 while another client is still admitted."""

    async def scenario() -> None:
        gate = CheckGate(workers=2, queue=4, per_client=1)
        release = threading.Event()
        busy = asyncio.ensure_future(gate.run("flooder", release.wait))
        await asyncio.sleep(0)
        with pytest.raises(TooManyRequests):
            await gate.run("flooder", lambda: True)
        assert await gate.run("someone else", lambda: "ok") == "ok"
        release.set()
        await busy

    asyncio.run(scenario())


def test_a_cancelled_caller_keeps_its_slot_until_the_work_ends() -> None:
    """The slot is freed when bcrypt finishes, not when the request gives up waiting."""

    async def scenario() -> None:
        gate = CheckGate(workers=1, queue=0, per_client=1)
        release = threading.Event()
        waiting = asyncio.ensure_future(gate.run("c", release.wait))
        await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert gate.in_flight == 1
        release.set()
        for _ in range(200):
            if gate.in_flight == 0:
                break
            await asyncio.sleep(0.01)
        assert gate.in_flight == 0

    asyncio.run(scenario())


def test_a_clients_failure_budget_refills_over_time() -> None:
    """After its budget of failed checks a client gets 429 until the budget refills."""

    async def scenario() -> None:
        clock = Clock()
        gate = CheckGate(failures_per_minute=2, monotonic=clock)
        gate.failed("c")
        gate.failed("c")
        with pytest.raises(TooManyRequests):
            await gate.run("c", lambda: True)
        assert await gate.run("other", lambda: True)
        clock.now += 30  # one unit back
        assert await gate.run("c", lambda: True)

    asyncio.run(scenario())


def test_the_same_wrong_secret_costs_bcrypt_once() -> None:
    """A failed secret is remembered briefly: repeating it is a 401 without a bcrypt check."""

    async def scenario() -> None:
        gate = CountingGate()
        auth = FigSecretAuth(SETTINGS.fig_secret_hash_name, FigSecretVerifier(), gate)
        secrets = FakeSecrets({SETTINGS.fig_secret_hash_name: HASH})
        for _ in range(5):
            with pytest.raises(Unauthorized):
                await auth.authenticate(request("Secret wrong-guess"), secrets)
        assert gate.runs == 1
        await auth.authenticate(request(f"Secret {SECRET}"), secrets)
        await auth.authenticate(request(f"Secret {SECRET}"), secrets)
        assert gate.runs == 2

    asyncio.run(scenario())


def test_failures_are_forgotten_after_their_ttl() -> None:
    """A remembered failure expires, so a hash fixed in the vault is tried again later."""
    clock = Clock()
    verifier = FigSecretVerifier(failure_ttl_seconds=60, monotonic=clock)
    with pytest.raises(Unauthorized):
        verifier.verify("Secret wrong", HASH)
    assert verifier.refused_recently("Secret wrong", HASH)
    clock.now += 61
    assert not verifier.refused_recently("Secret wrong", HASH)


def test_a_flood_of_new_wrong_secrets_from_one_address_is_cut_off() -> None:
    """Random wrong secrets from one address spend its budget, then get 429 unpaid."""

    async def scenario() -> None:
        gate = CountingGate(failures_per_minute=3)
        auth = FigSecretAuth(SETTINGS.fig_secret_hash_name, FigSecretVerifier(), gate)
        secrets = FakeSecrets({SETTINGS.fig_secret_hash_name: HASH})
        answers = []
        for i in range(6):
            try:
                await auth.authenticate(request(f"Secret guess-{i}"), secrets)
            except (Unauthorized, TooManyRequests) as error:
                answers.append(error.status)
        assert answers == [401, 401, 401, 429, 429, 429]
        # another address is unaffected, and the right secret still works from it
        await auth.authenticate(request(f"Secret {SECRET}", "198.51.100.9:1"), secrets)

    asyncio.run(scenario())


def test_a_flood_from_ever_new_addresses_is_capped_in_total() -> None:
    """Per-address budgets do not help against a new address per request: the total does."""

    async def scenario() -> None:
        clock = Clock()
        gate = CheckGate(failures_per_minute=100, total_failures_per_minute=2, monotonic=clock)
        gate.failed("198.18.0.1")
        gate.failed("198.18.0.2")
        with pytest.raises(TooManyRequests):
            await gate.run("198.18.0.3", lambda: True)
        clock.now += 30
        assert await gate.run("198.18.0.3", lambda: True)

    asyncio.run(scenario())


def test_a_sender_that_keeps_sending_stays_remembered() -> None:
    """Success memory slides: each use restarts the TTL, so a steady sender never pays again."""
    clock = Clock()
    sliding = DigestMemory(ttl_seconds=10, max_entries=4, monotonic=clock, sliding=True)
    fixed = DigestMemory(ttl_seconds=10, max_entries=4, monotonic=clock)
    for memory in (sliding, fixed):
        memory.add(memory.digest(SECRET, HASH))
    for _ in range(3):
        clock.now += 8
        assert sliding.digest(SECRET, HASH) in sliding
    assert fixed.digest(SECRET, HASH) not in fixed


def test_a_burst_of_the_right_secret_shares_one_check() -> None:
    """Ten concurrent posts from Fig on a cold process: one bcrypt run, ten passes, no 429
    (the gate's per-client limit of one would otherwise refuse nine of them)."""

    async def scenario() -> None:
        gate = CountingGate()
        auth = FigSecretAuth(SETTINGS.fig_secret_hash_name, FigSecretVerifier(), gate)
        secrets = FakeSecrets({SETTINGS.fig_secret_hash_name: HASH})
        await asyncio.gather(
            *(auth.authenticate(request(f"Secret {SECRET}"), secrets) for _ in range(10))
        )
        assert gate.runs == 1

    asyncio.run(scenario())


def test_a_burst_of_one_wrong_secret_shares_one_refusal() -> None:
    """Concurrent copies of one wrong secret: every one is refused, bcrypt paid once."""

    async def scenario() -> None:
        gate = CountingGate()
        auth = FigSecretAuth(SETTINGS.fig_secret_hash_name, FigSecretVerifier(), gate)
        secrets = FakeSecrets({SETTINGS.fig_secret_hash_name: HASH})
        outcomes = await asyncio.gather(
            *(auth.authenticate(request("Secret wrong"), secrets) for _ in range(5)),
            return_exceptions=True,
        )
        assert all(isinstance(outcome, Unauthorized) for outcome in outcomes)
        assert gate.runs == 1

    asyncio.run(scenario())
