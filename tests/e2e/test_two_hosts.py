"""Two instances, proven: two local hosts of the real app on one Azurite and one set of
emulators, the way Flex Consumption scales the app out.

Both hosts share the settings (so the storage account, the retry queue, the Tables and
the host id of their timer locks); each has its own process, port, caches and coalescer.
Invariants: 0 lost (every 2xx is in Sentinel, or queued and then delivered), 0 extra
duplicates, each timer tick handled once. The host killed with SIGKILL is the last test.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from local.azurite import Azurite
from local.emulators.faults import Fault
from local.emulators.stack import EmulatorStack
from local.host.process import LocalHostProcess
from local.run import sample_event
from shared.auth.standard_webhooks import decode_secret, sign
from tests.azure_fixtures import FigCredentials, storage_env
from tests.e2e.test_incident_host import post as post_json
from tests.e2e.test_incident_host import wait_until_forwarded
from tests.logscan import remember_log_file, remember_secret
from tests.payloads import parsed
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e

FIG_STREAM = "Custom-FigEvents"
INGEST_STREAM = "Custom-BridgeEvents"
WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
POLL = re.compile(r"Executed incident_poller \((\w+), scheduled (\d\d:\d\d:\d\d)")
DELIVERED = re.compile(r"Delivered \S+ to sentinel:")

Hosts = tuple[LocalHostProcess, LocalHostProcess]


@pytest.fixture(scope="module")
def callback_token() -> str:
    return remember_secret(uuid.uuid4().hex + uuid.uuid4().hex)


@pytest.fixture(scope="module")
def hosts(
    emulators: EmulatorStack,
    azurite: Azurite,
    state_dir: Path,
    callback_token: str,
    host_fig_credentials: FigCredentials,
) -> Iterator[Hosts]:
    """Two hosts of function_app:app with the same settings, polling incidents every 2 s."""
    emulators.sentinel.reset()
    emulators.signl4.reset()
    emulators.keyvault.set_secret(
        "signl4-team-secret", remember_secret(emulators.signl4.team_secret)
    )
    emulators.keyvault.set_secret("signl4-callback-token", callback_token)
    emulators.keyvault.set_secret("demo-whsec", remember_secret(WHSEC))
    env = {
        **emulators.app_environment(),
        **storage_env(azurite),
        "INCIDENT_POLL_SCHEDULE": "*/2 * * * * *",
        "LOCAL_HOST_MAX_POLLING_INTERVAL_SECONDS": "0.5",
        "RETRY_BASE_SECONDS": "0.5",
        "RETRY_MAX_SECONDS": "2",
        # A message the killed host held reappears after 10 s, not the real host's 10 min.
        "LOCAL_HOST_QUEUE_HOLD_SECONDS": "10",
        # One message at a time per host (an app setting overriding host.json, as in
        # Azure): with host.json's 16, the first host to poll after an outage can take
        # every envelope of the drain in one batch and the other worker gets none.
        "AzureFunctionsJobHost__extensions__queues__batchSize": "1",
        "INGEST_SOURCES": json.dumps(
            {"demo": {"stream": INGEST_STREAM, "secretNames": ["demo-whsec"]}}
        ),
    }
    started: list[LocalHostProcess] = []
    try:
        for name in ("a", "b"):
            log_path = state_dir / f"e2e-two-hosts-{name}.log"
            remember_log_file(log_path)
            host = LocalHostProcess(env=env, log_path=log_path).start()
            started.append(host)
            remember_secret(host.master_key)
            remember_secret(host.function_key)
        yield started[0], started[1]
    finally:
        for host in started:
            host.close()


@pytest.fixture
def fig(emulators: EmulatorStack, host_fig_credentials: FigCredentials) -> FigCredentials:
    emulators.keyvault.set_secret("fig-secret-hash", host_fig_credentials.hash)
    emulators.ingestion.reset()
    return host_fig_credentials


def fig_event(index: int, run: str) -> bytes:
    """A distinct failed login (its own user and time, so its own EventId)."""
    moment = datetime.now(UTC) - timedelta(milliseconds=index)
    return json.dumps(sample_event(moment, username=f"{run}-user{index}")).encode()


@dataclass(frozen=True)
class Answer:
    """What a sender got: the status (0: no answer), a 202's EventIds, whether it queued."""

    status: int
    ids: tuple[str, ...] = ()
    queued: bool = False


def send_fig(host: LocalHostProcess, body: bytes, fig: FigCredentials) -> Answer:
    """One Fig webhook, as Fig sends it; a connection that fails is status 0."""
    headers = {"Authorization": fig.header, "Content-Type": "application/json; charset=utf-8"}
    try:
        response = requests.post(
            host.url("/api/fig/SecurityEvent"), data=body, headers=headers, timeout=60
        )
    except requests.ConnectionError:
        return Answer(0)
    if response.status_code != 202:
        return Answer(response.status_code)
    reply = response.json()
    return Answer(202, tuple(reply["eventIds"]), bool(reply.get("queued")))


def send_all(
    targets: Sequence[LocalHostProcess], bodies: Sequence[bytes], fig: FigCredentials
) -> list[Answer]:
    """Every body, alternately to each host, from 8 concurrent senders."""
    with ThreadPoolExecutor(8) as pool:
        return list(
            pool.map(
                lambda pair: send_fig(targets[pair[0] % len(targets)], pair[1], fig),
                enumerate(bodies),
            )
        )


def landed(emulators: EmulatorStack, stream: str = FIG_STREAM) -> Counter[str]:
    return Counter(r.row["EventId"] for r in emulators.ingestion.rows(stream))


def test_load_is_split_across_both_hosts_and_lands_once(
    hosts: Hosts, emulators: EmulatorStack, fig: FigCredentials
) -> None:
    """300 webhooks, half to each host: all 2xx, 300 distinct rows, none twice."""
    run = uuid.uuid4().hex[:6]
    results = send_all(hosts, [fig_event(i, run) for i in range(300)], fig)
    assert Counter(a.status for a in results) == {202: 300}
    acked = [event_id for a in results for event_id in a.ids]
    rows = landed(emulators)
    assert set(rows) == set(acked)
    assert len(rows) == 300
    assert max(rows.values()) == 1


def test_an_outage_is_queued_by_both_and_drained_by_both_workers(
    hosts: Hosts, emulators: EmulatorStack, fig: FigCredentials
) -> None:
    """Ingestion down: each host queues what it accepted (202 queued); back up: the two
    workers deliver the queue between them, every row once."""
    run = uuid.uuid4().hex[:6]
    offsets = [len(host.logs()) for host in hosts]
    emulators.stop_emulator("ingestion")
    try:
        results: list[Answer] = []
        for wave in range(8):  # waves, so each host queues envelopes of its own
            bodies = [fig_event(wave * 10 + i, run) for i in range(10)]
            results += send_all(hosts, bodies, fig)
    finally:
        emulators.start_emulator("ingestion")
    # Answers 0.3 s late for a while: one worker cannot take the whole queue at once
    # before the other's next poll, as on a real service under a drain's load.
    emulators.ingestion.faults.add(Fault(delay=0.3, for_seconds=30))
    try:
        assert Counter(a.status for a in results) == {202: 80}
        acked = {event_id for a in results for event_id in a.ids}
        wait_for(lambda: set(landed(emulators)) >= acked or None, "the queued rows", timeout=90)
    finally:
        emulators.ingestion.faults.clear()
    rows = landed(emulators)
    assert max(rows.values()) == 1
    delivered = [len(DELIVERED.findall(h.logs()[o:])) for h, o in zip(hosts, offsets, strict=True)]
    assert all(count > 0 for count in delivered), f"deliveries per worker: {delivered}"


def test_incidents_are_polled_once_a_tick_and_callbacks_land_on_either_host(
    hosts: Hosts, emulators: EmulatorStack, callback_token: str
) -> None:
    """One poll per 2 s tick between both hosts; the incident reaches SIGNL4 once; its
    acknowledgement lands on one host and its close on the other."""
    incident = emulators.sentinel.seed_incident(title="two hosts", severity="High")
    name = incident["name"]
    wait_for(lambda: emulators.signl4.received(), "the SIGNL4 alert", timeout=60)

    wait_until_forwarded(emulators, name)
    acknowledged = parsed("signl4_outbound_signl_acknowledged.json")
    acknowledged["alert"]["externalEventId"] = name
    closed = parsed("signl4_outbound_signl_closed.json")
    closed["alert"]["externalEventId"] = name
    path = f"/api/signl4/{callback_token}"
    assert post_json(hosts[0], path, json.dumps(acknowledged)) == 200
    assert post_json(hosts[1], path, json.dumps(closed)) == 200
    stored = next(i for i in emulators.sentinel.incidents() if i["name"] == name)
    assert stored["properties"]["status"] == "Closed"
    time.sleep(6)  # three more ticks
    assert len(emulators.signl4.received()) == 1
    polls = [POLL.findall(host.logs()) for host in hosts]
    ticks = Counter(tick for found in polls for _, tick in found)
    assert len(ticks) >= 5
    assert max(ticks.values()) == 1, "a tick was polled by both hosts"


def signed(body: bytes, msg_id: str) -> dict[str, str]:
    now = int(time.time())
    return {
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(now),
        "webhook-signature": sign(decode_secret(WHSEC), msg_id, now, body),
    }


def test_the_same_signed_webhook_to_both_hosts_gives_one_row(
    hosts: Hosts, emulators: EmulatorStack
) -> None:
    """Sent to both at once, five times over: one 202, the rest the duplicate answer."""
    emulators.ingestion.reset()
    msg_id = f"msg_{uuid.uuid4().hex}"
    body = json.dumps({"type": "demo.event", "data": {"n": 1}}).encode()
    headers = signed(body, msg_id)

    def post(host: LocalHostProcess) -> int:
        url = host.url("/api/ingest/demo")
        return requests.post(url, data=body, headers=headers, timeout=60).status_code

    with ThreadPoolExecutor(10) as pool:
        statuses = sorted(pool.map(post, [*hosts] * 5))
    assert statuses == [200] * 9 + [202]
    assert len(emulators.ingestion.rows(INGEST_STREAM)) == 1


def test_a_host_killed_mid_load_loses_nothing_it_acknowledged(
    hosts: Hosts, emulators: EmulatorStack, fig: FigCredentials
) -> None:
    """SIGKILL one host mid-load, while ingestion refuses the first uploads (so both hosts
    queue some): every event either host answered 2xx lands, in Sentinel at once or queued
    and drained by the survivor (what the dead worker held reappears when its hold ends);
    what the dead host never answered is resent to the survivor, as a sender retries. Only
    those resends may land twice."""
    run = uuid.uuid4().hex[:6]
    bodies = [fig_event(i, run) for i in range(400)]
    victim, survivor = hosts
    emulators.ingestion.faults.add(Fault(status=503, times=15))
    offset = len(survivor.logs())
    with ThreadPoolExecutor(8) as pool:
        futures = [
            pool.submit(send_fig, hosts[index % 2], body, fig) for index, body in enumerate(bodies)
        ]
        wait_for(
            lambda: sum(f.done() for f in futures) >= 100 or None, "a quarter answered", timeout=60
        )
        victim.kill()  # mid-load: requests in flight on it get no answer
        results = [future.result() for future in futures]
    acked = {event_id for a in results for event_id in a.ids}
    assert any(a.queued for a in results[::2]), "the killed host queued nothing"
    unanswered = [body for body, a in zip(bodies, results, strict=True) if a.status != 202]
    assert unanswered, "the kill came after the load: nothing was tested"
    retried = send_all([survivor], unanswered, fig)
    assert Counter(a.status for a in retried) == {202: len(unanswered)}
    everything = acked | {event_id for a in retried for event_id in a.ids}
    assert len(everything) == 400
    wait_for(lambda: set(landed(emulators)) >= everything or None, "every row", timeout=90)
    assert DELIVERED.search(survivor.logs()[offset:]), "the survivor drained nothing"
    twice = {event_id for event_id, n in landed(emulators).items() if n > 1}
    resent = {event_id for a in retried for event_id in a.ids}
    assert twice <= resent, "an event answered once landed twice"
    assert len(twice) <= len(unanswered)
