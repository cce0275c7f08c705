"""The retry worker and dead-letter routes in the local host, on Azurite and the emulators."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from local.azurite import Azurite
from local.emulators.faults import Fault
from local.emulators.stack import EmulatorStack
from local.host.process import LocalHostProcess
from shared.adapters.retry_storage import RetryStorage, build_retry_storage
from tests.azure_fixtures import storage_env
from tests.logscan import remember_log_file, remember_secret
from tests.retry_support import STREAM, envelope, retry_settings
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e


class RetryHost:
    """The running host and the storage it works on."""

    def __init__(self, host: LocalHostProcess, storage: RetryStorage) -> None:
        self.host = host
        self.storage = storage

    def admin(self, method: str, path: str, **kwargs: object) -> requests.Response:
        headers = {"x-functions-key": self.host.master_key}
        return requests.request(method, self.host.url(path), headers=headers, timeout=60, **kwargs)  # type: ignore[arg-type]

    def dead_letter_count(self) -> int:
        return asyncio.run(self.storage.dead_letters.count())

    def queue_depth(self) -> int:
        return asyncio.run(self.storage.queue.depth())


@pytest.fixture(scope="module")
def retry_host(emulators: EmulatorStack, azurite: Azurite, state_dir: Path) -> Iterator[RetryHost]:
    env = storage_env(azurite)
    storage = build_retry_storage(retry_settings(env), None)
    log_path = state_dir / "e2e-retry-host.log"
    remember_log_file(log_path)
    host = LocalHostProcess(
        "tests.e2e.retry_app:app",
        env={
            **emulators.app_environment(),
            **env,
            "LOCAL_HOST_MAX_POLLING_INTERVAL_SECONDS": "0.2",
        },
        log_path=log_path,
    )
    with host:
        remember_secret(host.master_key)
        remember_secret(host.function_key)
        yield RetryHost(host, storage)


def stored_ids(emulators: EmulatorStack) -> list[str]:
    return [r.row["EventId"] for r in emulators.ingestion.rows(STREAM)]


def test_an_event_queued_during_an_outage_lands_once_after_recovery(
    retry_host: RetryHost, emulators: EmulatorStack
) -> None:
    """Ingestion down: the worker re-queues with backoff; once it is back, one row lands."""
    emulators.ingestion.reset()
    sent = envelope()
    assert sent.rows is not None
    event_id = sent.rows[0]["EventId"]
    log_offset = len(retry_host.host.logs())
    emulators.stop_emulator("ingestion")
    try:
        asyncio.run(retry_host.storage.queue.enqueue(sent))
        wait_for(
            lambda: "requeued" in retry_host.host.logs()[log_offset:] or None,
            "the worker to re-queue during the outage",
            timeout=60,
        )
    finally:
        emulators.start_emulator("ingestion")
    wait_for(
        lambda: event_id in stored_ids(emulators) or None, "the row after recovery", timeout=60
    )
    wait_for(lambda: retry_host.queue_depth() == 0 or None, "the queue to empty", timeout=60)
    assert stored_ids(emulators).count(event_id) == 1
    assert retry_host.dead_letter_count() == 0


def test_a_refused_event_is_dead_lettered_then_replayed_over_http(
    retry_host: RetryHost, emulators: EmulatorStack
) -> None:
    """400: a dead letter, listed over HTTP; replayed with the master key, it lands."""
    emulators.ingestion.reset()
    emulators.ingestion.faults.add(Fault(status=400, times=1))
    sent = envelope()
    assert sent.rows is not None
    event_id = sent.rows[0]["EventId"]
    asyncio.run(retry_host.storage.queue.enqueue(sent))
    wait_for(lambda: retry_host.dead_letter_count() == 1 or None, "the dead letter", timeout=60)

    listed = retry_host.admin("GET", "/api/ops/dead-letters")
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["count"] == 1
    assert body["byTarget"] == {"sentinel:Custom-FigEvents": 1}
    assert body["poisonQueue"] == 0
    [summary] = body["deadLetters"]
    assert summary["reason"].startswith("permanent:")

    replayed = retry_host.admin("POST", "/api/ops/dead-letters/replay", json={"all": True})
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["replayed"] == [summary["name"]]
    wait_for(lambda: event_id in stored_ids(emulators) or None, "the replayed row", timeout=60)
    assert retry_host.dead_letter_count() == 0
    assert stored_ids(emulators) == [event_id]


def test_dead_letter_routes_need_the_master_key(retry_host: RetryHost) -> None:
    """ADMIN level: no key or a function key is 401; the master key is let in."""
    url = retry_host.host.url("/api/ops/dead-letters")
    assert requests.get(url, timeout=30).status_code == 401
    function_key = {"x-functions-key": retry_host.host.function_key}
    assert requests.get(url, headers=function_key, timeout=30).status_code == 401
    assert retry_host.admin("GET", "/api/ops/dead-letters").status_code == 200
