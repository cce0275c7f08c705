"""Timers as singletons: two local hosts on one Azurite fire each tick once between them.

The app below records each run's occurrence (the schedule's ``Next`` after it, unique per
tick) and the host's process id; both hosts share ``AzureWebJobsStorage`` and a host id,
so one lock blob in ``azure-webjobs-hosts`` decides which host fires.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
from azure.functions.timer import TimerRequest
from azure.storage.blob import BlobServiceClient
from azure.storage.blob.aio import BlobClient, BlobLeaseClient

from local.azurite import Azurite
from local.host.loader import index_functions
from local.host.process import LocalHostProcess
from local.host.singleton import (
    HOSTS_CONTAINER,
    BlobLease,
    SingletonTimer,
    listener_lock_name,
)
from local.host.timers import TimerTrigger
from tests.logscan import remember_log_file
from tests.waiting import wait_for

app = func.FunctionApp()


@app.timer_trigger(arg_name="timer", schedule="*/1 * * * * *")
def tick(timer: func.TimerRequest) -> None:
    """Record which host ran which occurrence."""
    assert isinstance(timer, TimerRequest)  # the abstract type does not declare it
    record = {"pid": os.getpid(), "next": timer.schedule_status["Next"]}
    with (Path(os.environ["TICK_OUT_DIR"]) / f"{os.getpid()}.jsonl").open("a") as out:
        out.write(json.dumps(record) + "\n")


def records(out_dir: Path) -> list[dict[str, Any]]:
    lines = [line for path in out_dir.glob("*.jsonl") for line in path.read_text().splitlines()]
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture
def two_hosts(azurite: Azurite, tmp_path: Path) -> Iterator[tuple[LocalHostProcess, ...]]:
    env = {
        "AzureWebJobsStorage": azurite.connection_string,
        "AzureFunctionsWebHost__hostid": f"ticks-{uuid.uuid4().hex[:8]}",
        "TICK_OUT_DIR": str(tmp_path),
    }
    hosts = tuple(
        LocalHostProcess(
            "tests.host.test_timer_singleton:app", env=env, log_path=tmp_path / f"host{i}.log"
        )
        for i in (1, 2)
    )
    for host in hosts:
        remember_log_file(host.log_path)
    try:
        for host in hosts:
            host.start()
        yield hosts
    finally:
        for host in hosts:
            host.close()


def fired_by(out_dir: Path, host: LocalHostProcess) -> int:
    return sum(r["pid"] == host.pid for r in records(out_dir))


@pytest.mark.e2e
def test_two_hosts_fire_each_tick_once_and_hand_over_when_one_stops_or_dies(
    two_hosts: tuple[LocalHostProcess, ...], tmp_path: Path, azurite: Azurite
) -> None:
    """Each occurrence runs once between the two hosts. The holder stopped (SIGTERM)
    releases its lock and the other fires next; started again, it waits; the new holder
    killed (SIGKILL: no release), it fires again within a lease period."""
    wait_for(lambda: len(records(tmp_path)) >= 3, "three ticks", timeout=30)
    holders = {r["pid"] for r in records(tmp_path)}
    assert len(holders) == 1, "only the lock holder fires"
    first = next(h for h in two_hosts if h.pid in holders)
    second = next(h for h in two_hosts if h is not first)
    first.stop()
    assert "Singleton lock released" in first.logs()
    wait_for(lambda: fired_by(tmp_path, second) >= 2, "the other host to fire", timeout=20)
    first.start()
    wait_for(lambda: "Timers are singletons" in first.logs(), "the restarted host", timeout=20)
    ran_before_kill = fired_by(tmp_path, first)
    second.kill()
    wait_for(
        lambda: fired_by(tmp_path, first) >= ran_before_kill + 2,
        "the restarted host to take over",
        timeout=40,
    )
    occurrences = Counter(r["next"] for r in records(tmp_path))
    assert max(occurrences.values()) == 1, "an occurrence ran twice"
    blobs = BlobServiceClient.from_connection_string(azurite.connection_string)
    names = [b.name for b in blobs.get_container_client(HOSTS_CONTAINER).list_blobs("locks/")]
    assert any(n.endswith("/Host.Functions.tick.Listener") for n in names)


def test_a_timer_whose_lock_may_have_expired_skips_its_run() -> None:
    """may_fire False (a lease not renewed in time): the occurrence is skipped, not run."""
    runs: list[int] = []
    skipping = func.FunctionApp()

    @skipping.timer_trigger(arg_name="timer", schedule="* * * * * *", run_on_startup=True)
    def never(timer: func.TimerRequest) -> None:
        runs.append(1)

    (function,) = index_functions(skipping)

    async def two_seconds() -> None:
        async def refuse() -> bool:
            return False

        trigger = TimerTrigger(function, may_fire=refuse)
        task = asyncio.create_task(trigger.run())
        await asyncio.sleep(2.2)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(two_seconds())
    assert runs == []


def test_one_lease_holder_at_a_time_and_a_release_frees_it(azurite: Azurite) -> None:
    """Of two hosts' leases on one lock blob one is taken; the other takes it once released;
    a renewal by the host that released says the lease is lost."""
    name = listener_lock_name(f"lease-{uuid.uuid4().hex[:8]}", "poll")

    async def scenario() -> tuple[bool, ...]:
        one = BlobLease(azurite.connection_string, name)
        two = BlobLease(azurite.connection_string, name)
        try:
            first, second = await asyncio.gather(one.acquire(), two.acquire())
            winner, loser = (one, two) if first else (two, one)
            renewed = await winner.renew()
            assert await winner.release()
            taken = await loser.acquire()
            stale = await winner.renew()
            await loser.release()
            return first != second, renewed, taken, stale
        finally:
            await one.close()
            await two.close()

    assert asyncio.run(scenario()) == (True, True, True, False)


class Runs:
    """Which host ran each occurrence, in order, and an event per run."""

    def __init__(self) -> None:
        self.labels: list[str] = []
        self._ran = asyncio.Event()

    def add(self, label: str) -> None:
        self.labels.append(label)
        self._ran.set()

    async def until(self, done: Callable[[list[str]], bool]) -> None:
        """Wait for runs until ``done(labels)``."""
        while not done(self.labels):
            self._ran.clear()
            await self._ran.wait()


def labelled_timer(label: str, runs: Runs) -> TimerTrigger:
    """A per-second timer named ``tick`` that records ``label`` when it runs."""
    labelled = func.FunctionApp()

    @labelled.timer_trigger(arg_name="timer", schedule="* * * * * *")
    async def tick(timer: func.TimerRequest) -> None:
        runs.add(label)

    (function,) = index_functions(labelled)
    return TimerTrigger(function)


def test_a_host_whose_lease_is_taken_stops_firing_and_the_other_starts(
    azurite: Azurite,
) -> None:
    """The lease broken under the holder (taken away, or expired while its loop stalled):
    the holder renews before each run, so it skips its next run and stops; the other host
    takes the lock and fires."""
    name = listener_lock_name(f"broken-{uuid.uuid4().hex[:8]}", "tick")

    async def scenario() -> tuple[str, list[str], list[str]]:
        runs = Runs()
        timers = [
            SingletonTimer(
                labelled_timer(label, runs),
                BlobLease(azurite.connection_string, name),
                retry_seconds=0.5,
            )
            for label in ("a", "b")
        ]
        tasks = [asyncio.create_task(timer.run()) for timer in timers]
        try:
            await runs.until(lambda labels: len(labels) >= 2)
            holder = runs.labels[0]
            other = "b" if holder == "a" else "a"
            blob = BlobClient.from_connection_string(
                azurite.connection_string, HOSTS_CONTAINER, name
            )
            async with blob:
                await BlobLeaseClient(blob).break_lease(lease_break_period=0)
            broken_at = len(runs.labels)
            await runs.until(lambda labels: labels[broken_at:].count(other) >= 3)
            return holder, runs.labels[:broken_at], runs.labels[broken_at:]
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    holder, before, after = asyncio.run(asyncio.wait_for(scenario(), timeout=30))
    other = "b" if holder == "a" else "a"
    assert set(before) == {holder}, "both fired before the break"
    assert after.count(holder) <= 1, "the old holder kept firing (one run may be under way)"
    assert after[-2:] == [other, other]
