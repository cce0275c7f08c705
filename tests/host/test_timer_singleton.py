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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
from azure.functions.timer import TimerRequest
from azure.storage.blob import BlobServiceClient

from local.azurite import Azurite
from local.host.process import LocalHostProcess
from local.host.singleton import HOSTS_CONTAINER, BlobLease, listener_lock_name
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


@pytest.mark.e2e
def test_two_hosts_fire_each_tick_once_and_the_survivor_takes_over(
    two_hosts: tuple[LocalHostProcess, ...], tmp_path: Path, azurite: Azurite
) -> None:
    """Each occurrence runs once between the two hosts; after the holder is killed
    (SIGKILL: no release) the other host fires within a lease period, still once a tick."""
    wait_for(lambda: len(records(tmp_path)) >= 4, "four ticks", timeout=30)
    before = records(tmp_path)
    holders = {r["pid"] for r in before}
    assert len(holders) == 1, "only the lock holder fires"
    holder = next(h for h in two_hosts if h.pid in holders)
    survivor = next(h for h in two_hosts if h is not holder)
    holder.kill()
    wait_for(
        lambda: any(r["pid"] == survivor.pid for r in records(tmp_path)),
        "the survivor to fire",
        timeout=40,
    )
    wait_for(
        lambda: sum(r["pid"] == survivor.pid for r in records(tmp_path)) >= 3,
        "three ticks on the survivor",
        timeout=20,
    )
    occurrences = Counter(r["next"] for r in records(tmp_path))
    assert max(occurrences.values()) == 1, "an occurrence ran twice"
    assert "Singleton lock acquired" in survivor.logs()
    blobs = BlobServiceClient.from_connection_string(azurite.connection_string)
    names = [b.name for b in blobs.get_container_client(HOSTS_CONTAINER).list_blobs("locks/")]
    assert any(n.endswith("/Host.Functions.tick.Listener") for n in names)


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
            await winner.release()
            taken = await loser.acquire()
            stale = await winner.renew()
            await loser.release()
            return first != second, renewed, taken, stale
        finally:
            await one.close()
            await two.close()

    assert asyncio.run(scenario()) == (True, True, True, False)
