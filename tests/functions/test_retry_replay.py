"""Replaying dead letters: the service, the HTTP routes (real func.HttpRequest) and the CLI."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
from azure.storage.queue import QueueClient

from local.azurite import Azurite
from local.host.ports import free_port
from shared.adapters.retry_storage import RetryStorage, build_retry_storage
from shared.adapters.storage import StorageRetryQueue
from shared.bootstrap import install_root
from shared.delivery.envelope import Envelope
from shared.retrying.replay import replay
from tests.azure_fixtures import storage_env
from tests.retry_support import (
    REQUIRED,
    envelope,
    host_decode,
    retry_settings,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
OTHER = "sentinel:Custom-BridgeEvents"


@pytest.fixture
def env(azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Retry settings on Azurite, set as app settings for the routes."""
    values = {**REQUIRED, **storage_env(azurite)}
    install_root(values)
    yield values
    install_root({})


@pytest.fixture
def storage(env: dict[str, str]) -> RetryStorage:
    return build_retry_storage(retry_settings(env), None)


def queued(storage: RetryStorage, azurite: Azurite) -> list[Envelope]:
    with QueueClient.from_connection_string(
        azurite.connection_string, storage.queue.queue_name
    ) as client:
        return [Envelope.decode(host_decode(m.content)) for m in client.peek_messages(32)]


def dead_letter(
    storage: RetryStorage, target: str = "sentinel:Custom-FigEvents"
) -> tuple[str, Envelope]:
    """A dead letter of an envelope first seen 3 days ago, after 7 failed retries."""
    old = envelope(first_seen=datetime.now(UTC) - timedelta(days=3), target=target, attempt=6)
    failed = old.next_attempt("IngestionFailed (400)", 400)
    return asyncio.run(storage.dead_letters.put(failed, reason="permanent: test")), failed


def test_a_replay_is_a_fresh_delivery_of_the_same_envelope(
    storage: RetryStorage, azurite: Azurite
) -> None:
    """Same id and rows; attempt 0, no last error, first_seen = now; the dead letter is gone."""
    name, failed = dead_letter(storage)
    now = datetime.now(UTC)
    report = asyncio.run(replay(storage.dead_letters, storage.queue, names=[name], now=now))
    assert report.replayed == [name]
    [again] = queued(storage, azurite)
    assert (again.id, again.rows, again.target) == (failed.id, failed.rows, failed.target)
    assert (again.attempt, again.last_error, again.last_status) == (0, None, None)
    assert again.first_seen == now  # the budget starts again
    assert asyncio.run(storage.dead_letters.count()) == 0


def test_replay_all_can_be_narrowed_to_one_target(storage: RetryStorage, azurite: Azurite) -> None:
    """all + target: only that target's dead letters; unreadable ones are never replayed."""
    dead_letter(storage)
    other, other_envelope = dead_letter(storage, OTHER)
    asyncio.run(storage.dead_letters.put_unreadable("junk", reason="not an envelope"))
    report = asyncio.run(
        replay(
            storage.dead_letters,
            storage.queue,
            replay_all=True,
            target=OTHER,
            now=datetime.now(UTC),
        )
    )
    assert report.replayed == [other]
    assert [e.id for e in queued(storage, azurite)] == [other_envelope.id]
    assert asyncio.run(storage.dead_letters.counts()) == {
        "sentinel:Custom-FigEvents": 1,
        "unreadable": 1,
    }


def test_unknown_and_unreplayable_names_are_reported(storage: RetryStorage) -> None:
    """A name that is gone and an unreadable message are listed apart; nothing is queued."""
    name, _ = dead_letter(storage)
    asyncio.run(storage.dead_letters.delete(name))
    junk = asyncio.run(storage.dead_letters.put_unreadable("junk", reason="not an envelope"))
    report = asyncio.run(
        replay(storage.dead_letters, storage.queue, names=[name, junk], now=datetime.now(UTC))
    )
    assert (report.not_found, report.not_replayable, report.replayed) == ([name], [junk], [])
    assert asyncio.run(storage.queue.depth()) == 0


def test_a_dead_letter_stays_when_the_queue_refuses_it(storage: RetryStorage) -> None:
    """Queue unreachable: reported as failed, and the dead letter is kept."""
    name, _ = dead_letter(storage)
    connection = (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
        f"QueueEndpoint=http://127.0.0.1:{free_port()}/devstoreaccount1;"
    )
    down = StorageRetryQueue(
        QueueClient.from_connection_string(connection, "q-down", retry_total=0), storage.spill
    )
    report = asyncio.run(replay(storage.dead_letters, down, names=[name], now=datetime.now(UTC)))
    assert report.failed == [name]
    assert asyncio.run(storage.dead_letters.count()) == 1


def test_a_name_of_the_wrong_shape_is_refused(storage: RetryStorage) -> None:
    """Names are checked before anything is read or queued."""
    with pytest.raises(ValueError, match="dead letter"):
        asyncio.run(
            replay(storage.dead_letters, storage.queue, names=["../x"], now=datetime.now(UTC))
        )


# -- the routes, called as the worker calls them ----------------------------------------


@cache
def functions() -> dict[str, Callable[..., Any]]:
    from tests.e2e.retry_app import app

    return {str(f.get_function_name()): f.get_user_function() for f in app.get_functions()}


def call(
    name: str, method: str, *, params: dict[str, str] | None = None, body: Any = None
) -> tuple[int, Any]:
    request = func.HttpRequest(
        method=method,
        url=f"http://localhost:7071/api/ops/dead-letters/{name}",
        headers={"Content-Type": "application/json"},
        params=params or {},
        body=body
        if isinstance(body, bytes)
        else json.dumps(body).encode()
        if body is not None
        else b"",
    )
    response = asyncio.run(functions()[name](request))
    return response.status_code, json.loads(response.get_body())


def test_the_list_route_gives_counts_and_summaries(storage: RetryStorage) -> None:
    """GET: the total, the count per target and each summary."""
    dead_letter(storage)
    dead_letter(storage, OTHER)
    status, body = call("dead_letters_list", "GET", params={"limit": "1"})
    assert status == 200
    assert body["count"] == 2
    assert body["byTarget"] == {"sentinel:Custom-FigEvents": 1, OTHER: 1}
    assert len(body["deadLetters"]) == 1
    status, body = call("dead_letters_list", "GET", params={"target": OTHER})
    assert [s["target"] for s in body["deadLetters"]] == [OTHER]
    assert call("dead_letters_list", "GET", params={"limit": "0"})[0] == 400


def test_the_item_route_shows_one_dead_letter(storage: RetryStorage) -> None:
    """GET item: the document with its envelope; 404 when gone; 400 for a bad name."""
    name, failed = dead_letter(storage)
    status, body = call("dead_letters_item", "GET", params={"name": name})
    assert status == 200
    assert (body["name"], body["envelope_id"], body["attempts"]) == (name, failed.id, 7)
    assert Envelope.decode(body["envelope"]) == failed
    asyncio.run(storage.dead_letters.delete(name))
    assert call("dead_letters_item", "GET", params={"name": name})[0] == 404
    assert call("dead_letters_item", "GET", params={"name": "x/../y"})[0] == 400


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        [],
        {},
        {"names": "one"},
        {"names": [1]},
        {"all": "yes"},
        {"all": True, "names": ["a"]},
        {"names": ["a"], "target": "sentinel:x"},
        {"all": True, "extra": 1},
        {"names": ["not-a-name"]},
    ],
)
def test_the_replay_route_refuses_unclear_requests(storage: RetryStorage, body: Any) -> None:
    """Anything but {"names": [...]} or {"all": true, "target"?: "..."} is a 400."""
    status, reply = call("dead_letters_replay", "POST", body=body)
    assert status == 400
    assert reply["error"]["code"] == "MalformedPayload"
    assert asyncio.run(storage.queue.depth()) == 0


def test_the_replay_route_replays_by_name(storage: RetryStorage) -> None:
    """POST names: 200 with the report, and the envelope is back on the queue."""
    name, _ = dead_letter(storage)
    status, body = call("dead_letters_replay", "POST", body={"names": [name]})
    assert (status, body["replayed"]) == (200, [name])
    assert asyncio.run(storage.queue.depth()) == 1


# -- the CLI ------------------------------------------------------------------------------


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shared.retrying", *args],
        cwd=REPO_ROOT,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_cli_lists_and_replays(storage: RetryStorage, env: dict[str, str]) -> None:
    """`list` prints the counts as JSON; `replay --all` puts them back on the queue."""
    name, _ = dead_letter(storage)
    listed = cli(env, "list")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["count"] == 1
    replayed = cli(env, "replay", "--all")
    assert replayed.returncode == 0, replayed.stderr
    assert json.loads(replayed.stdout)["replayed"] == [name]
    assert asyncio.run(storage.queue.depth()) == 1
    assert "AccountKey" not in replayed.stderr


def test_the_cli_names_missing_settings(env: dict[str, str]) -> None:
    """No storage connection: exit status 2 and the settings to set, on stderr."""
    settings = {k: v for k, v in env.items() if k != "AzureWebJobsStorage"}
    completed = cli(settings, "list")
    assert completed.returncode == 2
    assert "AzureWebJobsStorage" in completed.stderr


# -- the poison queue ---------------------------------------------------------------------


def test_poison_messages_go_back_to_the_queue_or_the_dead_letters(
    storage: RetryStorage, azurite: Azurite, env: dict[str, str]
) -> None:
    """What the host poisoned is re-queued as it was; text that is not base64 is kept."""
    sent = envelope()
    poison_name = storage.queue.queue_name + "-poison"
    with QueueClient.from_connection_string(azurite.connection_string, poison_name) as poison:
        poison.create_queue()
        poison.send_message(base64.b64encode(sent.encode().encode()).decode())  # as the host copies
        poison.send_message("not base64 at all!")
    assert asyncio.run(storage.poison.depth()) == 2
    listed = cli(env, "list")
    assert json.loads(listed.stdout)["poisonQueue"] == 2
    moved = cli(env, "poison")
    assert moved.returncode == 0, moved.stderr
    assert json.loads(moved.stdout) == {"requeued": 1, "deadLettered": 1}
    assert queued(storage, azurite) == [sent]
    assert asyncio.run(storage.poison.depth()) == 0
    assert asyncio.run(storage.dead_letters.counts()) == {"unreadable": 1}
