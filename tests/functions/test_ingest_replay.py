"""The Standard Webhooks replay guard under concurrency, through the function and the
real adapters (Key Vault, Logs Ingestion emulators)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator

import azure.functions as func
import pytest

from local.emulators.stack import EmulatorStack
from shared.auth.standard_webhooks import decode_secret, sign
from tests.azure_fixtures import use_settings
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
