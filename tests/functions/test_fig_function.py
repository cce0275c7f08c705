"""The Fig function with real func.HttpRequest objects and the real SDK clients, over
HTTPS to the emulated Key Vault, managed identity and Logs Ingestion API."""

from __future__ import annotations

import json

import pytest
from azure.storage.blob import ContainerClient
from azure.storage.queue import QueueClient

from local.emulators.faults import Fault
from local.emulators.stack import EmulatorStack
from shared.delivery import Envelope
from tests.azure_fixtures import FigCredentials, use_settings
from tests.functions.app_functions import call_http, fig_request
from tests.logscan import remember_secret
from tests.payloads import FIG_EVENTS, FIG_REFERENCE_HASH, FIG_REFERENCE_SECRET, FIG_TESTS, raw

pytestmark = pytest.mark.usefixtures("app_env")
STREAM = "Custom-FigEvents"


def post(event: str, body: bytes, credentials: FigCredentials | None, **kwargs: object):  # type: ignore[no-untyped-def]
    header = credentials.header if credentials is not None else None
    return call_http("fig_webhook", fig_request(event, body, authorization=header, **kwargs))  # type: ignore[arg-type]


@pytest.mark.parametrize("route", sorted(FIG_EVENTS))
def test_every_route_lands_one_row(
    route: str, emulators: EmulatorStack, fig_credentials: FigCredentials
) -> None:
    """Each Fig route is answered 202 only with its row in the table, nothing dropped."""
    response = post(route, raw(FIG_EVENTS[route]), fig_credentials)
    assert response.status_code == 202, response.get_body()
    reply = json.loads(response.get_body())
    stored = emulators.ingestion.rows(STREAM)
    assert [r.row["EventId"] for r in stored] == reply["eventIds"]
    assert emulators.ingestion.errors() == []  # no value dropped or changed by the service


def test_figs_reference_hash_works_end_to_end(emulators: EmulatorStack) -> None:
    """The $2a$11$ hash from Fig's own tests, stored in the vault, admits Fig's secret."""
    emulators.keyvault.set_secret("fig-secret-hash", remember_secret(FIG_REFERENCE_HASH))
    remember_secret(FIG_REFERENCE_SECRET)
    response = call_http(
        "fig_webhook",
        fig_request(
            "SecurityEvent",
            raw(FIG_EVENTS["SecurityEvent"]),
            authorization=f"Secret {FIG_REFERENCE_SECRET}",
        ),
    )
    assert response.status_code == 202


@pytest.mark.parametrize("name", sorted(set(FIG_TESTS.values())))
def test_test_webhooks_are_answered_and_not_forwarded(
    name: str, emulators: EmulatorStack, fig_credentials: FigCredentials
) -> None:
    """Fig's Test button: 200, no row."""
    route = next(r for r, f in FIG_TESTS.items() if f == name)
    assert post(route, raw(name), fig_credentials).status_code == 200
    assert emulators.ingestion.rows() == []


@pytest.mark.parametrize(
    ("event", "body", "auth", "method", "status"),
    [
        ("SecurityEvent", raw(FIG_EVENTS["SecurityEvent"]), None, "POST", 401),
        ("SecurityEvent", raw(FIG_EVENTS["SecurityEvent"]), "Secret nope", "POST", 401),
        ("SecurityEvent", raw(FIG_EVENTS["SecurityEvent"]), "Bearer x", "POST", 401),
        ("SecurityEvent", b"{not json", "good", "POST", 400),
        ("SecurityEvent", b"[1, 2]", "good", "POST", 400),
        ("SecurityEvent", b'{"Success": "yes"}', "good", "POST", 400),
        ("NoSuchEvent", b"{}", "good", "POST", 404),
        ("SecurityEvent", b"", "good", "GET", 405),
    ],
)
def test_bad_input_gets_a_clear_answer_and_nothing_is_sent(
    emulators: EmulatorStack,
    fig_credentials: FigCredentials,
    event: str,
    body: bytes,
    auth: str | None,
    method: str,
    status: int,
) -> None:
    """401, 400, 404, 405, each with a JSON error, and no row."""
    header = fig_credentials.header if auth == "good" else auth
    response = call_http(
        "fig_webhook", fig_request(event, body, authorization=header, method=method)
    )
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert set(json.loads(response.get_body())["error"]) == {"code", "message"}
    assert emulators.ingestion.rows() == []


def test_oversize_is_413(emulators: EmulatorStack, fig_credentials: FigCredentials) -> None:
    """A body over MAX_BODY_BYTES is refused with 413 and nothing sent."""
    use_settings(MAX_BODY_BYTES="1000")
    body = json.dumps({**json.loads(raw(FIG_EVENTS["SecurityEvent"])), "Uri": "x" * 2000})
    assert post("SecurityEvent", body.encode(), fig_credentials).status_code == 413
    assert emulators.ingestion.rows() == []


def test_ingestion_throttling_is_queued_after_its_retry_after(
    emulators: EmulatorStack, fig_credentials: FigCredentials, app_env: dict[str, str]
) -> None:
    """A 429 from Sentinel: 202 queued, the row waits on the retry queue past Retry-After."""
    emulators.ingestion.faults.add(Fault(status=429, retry_after=12, times=1))
    response = post("SecurityEvent", raw(FIG_EVENTS["SecurityEvent"]), fig_credentials)
    reply = json.loads(response.get_body())
    assert (response.status_code, reply["queued"], reply["accepted"]) == (202, True, 0)
    assert emulators.ingestion.rows() == []
    with QueueClient.from_connection_string(
        app_env["AzureWebJobsStorage"], app_env["RETRY_QUEUE_NAME"]
    ) as queue:
        assert queue.get_queue_properties().approximate_message_count == 1
        assert list(queue.peek_messages()) == []  # invisible: it waits out the Retry-After


@pytest.mark.parametrize("status", [500, 503, 403, 401])
def test_transient_refusals_are_queued_not_answered_503(
    status: int,
    emulators: EmulatorStack,
    fig_credentials: FigCredentials,
    app_env: dict[str, str],
) -> None:
    """5xx, a missing role and a refused token can pass: the row is queued, 202."""
    emulators.ingestion.faults.add(Fault(status=status))
    response = post("SecurityEvent", raw(FIG_EVENTS["SecurityEvent"]), fig_credentials)
    assert response.status_code == 202
    assert json.loads(response.get_body())["queuedRows"] == 1


def test_a_schema_refusal_is_dead_lettered_not_retried(
    emulators: EmulatorStack, fig_credentials: FigCredentials, app_env: dict[str, str]
) -> None:
    """A 400 cannot pass by retrying: the row is dead-lettered, kept, and the sender told 202."""
    emulators.ingestion.faults.add(Fault(status=400))
    response = post("SecurityEvent", raw(FIG_EVENTS["SecurityEvent"]), fig_credentials)
    reply = json.loads(response.get_body())
    assert (response.status_code, reply["deadLettered"], reply["queued"]) == (202, 1, False)
    with ContainerClient.from_connection_string(
        app_env["AzureWebJobsStorage"], app_env["DEAD_LETTER_CONTAINER"]
    ) as container:
        (blob,) = list(container.list_blobs())
        document = json.loads(container.download_blob(blob.name).readall())
    envelope = Envelope.decode(document["envelope"])
    assert envelope.rows is not None
    assert [row["EventId"] for row in envelope.rows] == reply["eventIds"]


def test_ingestion_down_is_queued(
    emulators: EmulatorStack, fig_credentials: FigCredentials
) -> None:
    """Connection refused by the ingestion endpoint: queued (202); later events land again."""
    emulators.stop_emulator("ingestion")
    try:
        response = post("SecurityEvent", raw(FIG_EVENTS["SecurityEvent"]), fig_credentials)
        assert (response.status_code, json.loads(response.get_body())["queued"]) == (202, True)
    finally:
        emulators.start_emulator("ingestion")
    response = post("MinRunSessions", raw(FIG_EVENTS["MinRunSessions"]), fig_credentials)
    assert (response.status_code, json.loads(response.get_body())["accepted"]) == (202, 1)


def test_key_vault_outage_with_a_warm_cache_does_not_stop_intake(
    emulators: EmulatorStack, fig_credentials: FigCredentials
) -> None:
    """Once the hash was read, Key Vault going down does not stop events."""
    assert (
        post("MinRunSessions", raw(FIG_EVENTS["MinRunSessions"]), fig_credentials).status_code
        == 202
    )
    emulators.stop_emulator("keyvault")
    try:
        body = raw(FIG_EVENTS["SecurityEvent"])
        assert post("SecurityEvent", body, fig_credentials).status_code == 202
        # Wrong secrets are still refused while the vault is down.
        assert post("SecurityEvent", body, None).status_code == 401
    finally:
        emulators.start_emulator("keyvault")
    assert len(emulators.ingestion.rows()) == 2


def test_key_vault_outage_without_a_cached_hash_is_503_never_401(
    emulators: EmulatorStack, fig_credentials: FigCredentials
) -> None:
    """A cold bridge cannot check the secret: 503 and Retry-After, never a false 401."""
    emulators.keyvault.faults.add(Fault(status=503))
    response = post("SecurityEvent", raw(FIG_EVENTS["SecurityEvent"]), fig_credentials)
    assert response.status_code == 503
    assert "Retry-After" in response.headers


def test_identity_outage_on_a_cold_start_is_503(
    emulators: EmulatorStack, fig_credentials: FigCredentials
) -> None:
    """No token, no vault read: 503, never 401."""
    emulators.identity.faults.add(Fault(status=500))
    response = post("SecurityEvent", raw(FIG_EVENTS["SecurityEvent"]), fig_credentials)
    assert response.status_code == 503


def test_token_audience_must_match_the_service(
    emulators: EmulatorStack, fig_credentials: FigCredentials
) -> None:
    """A token for another cloud's audience is refused by ingestion; the row waits, queued."""
    use_settings(LOGS_INGESTION_AUDIENCE="https://monitor.azure.us")
    response = post("SecurityEvent", raw(FIG_EVENTS["SecurityEvent"]), fig_credentials)
    assert json.loads(response.get_body())["queued"] is True
    assert emulators.ingestion.rows() == []
    assert emulators.ingestion.stats()["refused"] == {"401": 1}


def test_disabled_event_types_are_not_forwarded(
    emulators: EmulatorStack, fig_credentials: FigCredentials
) -> None:
    """FIG_EVENT_TYPES without SecurityEvent: 200, forwarded false, no row."""
    use_settings(FIG_EVENT_TYPES="HealthStatusChanged,MinRunSessions")
    response = post("SecurityEvent", raw(FIG_EVENTS["SecurityEvent"]), fig_credentials)
    assert response.status_code == 200
    assert json.loads(response.get_body())["forwarded"] is False
    assert emulators.ingestion.rows() == []
