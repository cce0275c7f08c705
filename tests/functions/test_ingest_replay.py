"""The Standard Webhooks replay guard under concurrency, through the function and the
real adapters (Key Vault, Logs Ingestion emulators)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import azure.functions as func
import pytest
from azure.data.tables import TableClient

from local.azurite import ACCOUNT_KEY
from local.emulators.stack import EmulatorStack
from local.host.ports import free_port
from shared.adapters.replay_table import TableReplayLedger
from shared.adapters.replay_table import table_name as replay_table_name
from shared.auth.standard_webhooks import decode_secret, sign
from shared.bootstrap import root
from shared.errors import UpstreamUnavailable
from shared.sources.replay_guard import DELIVERED, ReplayWindows
from tests.azure_fixtures import fresh_root, use_settings
from tests.functions.app_functions import user_functions
from tests.logscan import remember_secret

pytestmark = pytest.mark.usefixtures("app_env")
WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
STREAM = "Custom-BridgeEvents"


@pytest.fixture(autouse=True)
def _demo_source(app_env: dict[str, str], emulators: EmulatorStack) -> Iterator[None]:
    emulators.keyvault.set_secret("demo-whsec", remember_secret(WHSEC))
    use_settings(
        INGEST_SOURCES=json.dumps({"demo": {"stream": STREAM, "secretNames": ["demo-whsec"]}})
    )
    yield
    emulators.keyvault.set_enabled("demo-whsec", False)


def signed(body: bytes, msg_id: str) -> func.HttpRequest:
    now = int(time.time())
    return func.HttpRequest(
        method="POST",
        url="http://localhost:7071/api/ingest/demo",
        headers={
            "Content-Type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(now),
            "webhook-signature": sign(decode_secret(WHSEC), msg_id, now, body),
        },
        params={},
        route_params={"source": "demo"},
        body=body,
    )


async def post_all(requests: list[func.HttpRequest]) -> list[func.HttpResponse]:
    handler = user_functions()["ingest_webhook"]
    return list(await asyncio.gather(*(handler(r) for r in requests)))


def test_twenty_concurrent_copies_of_one_message_land_one_row(emulators: EmulatorStack) -> None:
    """One signed message posted 20 times at once: one 202 and one row, 19 duplicates."""
    msg_id = f"msg_{uuid.uuid4().hex}"
    body = json.dumps({"type": "demo.event", "data": {"n": 1}}).encode()
    responses = asyncio.run(post_all([signed(body, msg_id) for _ in range(20)]))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 19 + [202]
    duplicates = [json.loads(r.get_body()) for r in responses if r.status_code == 200]
    assert all(d == {"forwarded": False, "duplicate": True} for d in duplicates)
    assert len(emulators.ingestion.rows(STREAM)) == 1


def test_a_refused_copy_does_not_block_the_fixed_retry(emulators: EmulatorStack) -> None:
    """A 400 (1e400) releases the id: the same id with a good body then lands its row."""
    msg_id = f"msg_{uuid.uuid4().hex}"
    [refused] = asyncio.run(post_all([signed(b'{"data": {"n": 1e400}}', msg_id)]))
    assert refused.status_code == 400
    [taken] = asyncio.run(post_all([signed(b'{"data": {"n": 1}}', msg_id)]))
    assert taken.status_code == 202
    assert len(emulators.ingestion.rows(STREAM)) == 1


def test_two_roots_on_one_storage_account_land_one_row(emulators: EmulatorStack) -> None:
    """The same signed webhook through two separately built roots (two instances): one
    202 and one row, then the duplicate answer; the Table holds one delivered mark."""
    msg_id = f"msg_{uuid.uuid4().hex}"
    body = json.dumps({"type": "demo.event", "data": {"n": 1}}).encode()
    [first] = asyncio.run(post_all([signed(body, msg_id)]))
    fresh_root()  # another instance: its own clients, no memory of the first
    [second] = asyncio.run(post_all([signed(body, msg_id)]))
    assert (first.status_code, second.status_code) == (202, 200)
    assert json.loads(second.get_body()) == {"forwarded": False, "duplicate": True}
    assert len(emulators.ingestion.rows(STREAM)) == 1
    ledger = root().replay_ledger()
    assert isinstance(ledger, TableReplayLedger)
    mark = ledger.mark(("demo", msg_id))
    assert mark is not None
    assert mark.state == DELIVERED


def ledgers(count: int, windows: ReplayWindows | None = None) -> list[TableReplayLedger]:
    """``count`` ledgers on the same table, each with its own client (its own instance)."""
    environment = root().environ
    table = replay_table_name(environment["HEALTH_TABLE_NAME"])
    return [
        TableReplayLedger(
            TableClient.from_connection_string(environment["AzureWebJobsStorage"], table),
            windows,
        )
        for _ in range(count)
    ]


def test_instances_racing_for_one_id_make_one_claim() -> None:
    """Ten instances claim one id at once through the Table: exactly one wins (409s lose)."""
    key = ("demo", f"msg_{uuid.uuid4().hex}")
    now = datetime.now(UTC)

    async def race() -> list[str | None]:
        return list(await asyncio.gather(*(ledger.claim(key, now) for ledger in ledgers(10))))

    tokens = asyncio.run(race())
    assert sum(token is not None for token in tokens) == 1


def test_table_marks_expire_with_their_window_relative_to_the_given_time() -> None:
    """A kept id holds for the window, then the next claim takes it over (ETag-checked)
    while a second taker loses; an in-flight claim left behind frees itself."""
    windows = ReplayWindows(delivered=timedelta(minutes=10), in_flight=timedelta(seconds=240))
    one, two = ledgers(2, windows)
    key = ("demo", f"msg_{uuid.uuid4().hex}")
    start = datetime.now(UTC)
    token = asyncio.run(one.claim(key, start))
    assert token is not None
    asyncio.run(one.keep(key, token, start))
    assert asyncio.run(two.claim(key, start + timedelta(minutes=10))) is None
    later = start + timedelta(minutes=11)
    assert asyncio.run(two.claim(key, later)) is not None
    assert asyncio.run(one.claim(key, later)) is None  # two's claim is in flight now
    abandoned = later + timedelta(seconds=241)  # two died mid-request
    assert asyncio.run(one.claim(key, abandoned)) is not None


def test_a_release_drops_only_its_own_claim() -> None:
    """A stale claim's late release does not drop the claim that replaced it."""
    windows = ReplayWindows(in_flight=timedelta(seconds=1))
    one, two = ledgers(2, windows)
    key = ("demo", f"msg_{uuid.uuid4().hex}")
    start = datetime.now(UTC)
    stale = asyncio.run(one.claim(key, start))
    fresh = asyncio.run(two.claim(key, start + timedelta(seconds=5)))
    assert stale is not None
    assert fresh is not None
    asyncio.run(one.release(key, stale))
    mark = one.mark(key)
    assert mark is not None
    assert mark.at == start + timedelta(seconds=5)
    asyncio.run(two.release(key, fresh))
    assert one.mark(key) is None


def test_ids_that_are_not_safe_keys_are_hashed_and_case_is_kept() -> None:
    """'/' cannot be in a Table key: such an id is hashed; 'A' and 'a' stay two ids."""
    [ledger] = ledgers(1)
    now = datetime.now(UTC)
    suffix = uuid.uuid4().hex
    for msg_id in (f"a/b#{suffix}", f"MSG_{suffix}", f"msg_{suffix}"):
        assert asyncio.run(ledger.claim(("demo", msg_id), now)) is not None


def test_storage_down_is_a_503_for_the_claim_and_quiet_for_keep_and_release() -> None:
    """No Table service: claim raises UpstreamUnavailable (the sender retries); keep and
    release, which run once the answer is decided, only log."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}/devstoreaccount1"
    connection = (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        f"AccountKey={ACCOUNT_KEY};TableEndpoint={endpoint};"
    )
    ledger = TableReplayLedger(
        TableClient.from_connection_string(connection, "replays", retry_total=0)
    )
    key = ("demo", "msg_down")
    now = datetime.now(UTC)
    with pytest.raises(UpstreamUnavailable):
        asyncio.run(ledger.claim(key, now))
    asyncio.run(ledger.keep(key, "etag", now))
    asyncio.run(ledger.release(key, "etag"))
