"""The Logs Ingestion emulator's contract, through azure-monitor-ingestion's client."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from azure.core.credentials import TokenCredential
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.identity import ManagedIdentityCredential
from azure.monitor.ingestion import LogsIngestionClient

from local.emulators import EmulatorStack
from tests.emulators.conftest import StaticTokenCredential

STREAM = "Custom-FigEvents"


def ingestion_client(
    stack: EmulatorStack, credential: TokenCredential, ca: str
) -> LogsIngestionClient:
    """A LogsIngestionClient without retries, trusting the throwaway CA."""
    return LogsIngestionClient(
        stack.ingestion_endpoint, credential, connection_verify=ca, retry_total=0
    )


@pytest.fixture
def client(
    stack: EmulatorStack, credential: ManagedIdentityCredential, ca: str
) -> Iterator[LogsIngestionClient]:
    """A client authenticated by the emulated managed identity."""
    with ingestion_client(stack, credential, ca) as logs:
        yield logs


def fig_row(event_id: str, **extra: object) -> dict[str, object]:
    """A FigEvents row with a current TimeGenerated."""
    now = datetime.now(UTC).isoformat()
    return {"TimeGenerated": now, "EventId": event_id, "EventType": "SecurityEvent", **extra}


def test_rows_land_with_receive_time_and_request_id(
    stack: EmulatorStack, client: LogsIngestionClient
) -> None:
    """An upload is stored row by row, tagged with the SDK's x-ms-client-request-id."""
    client.upload(stack.dcr_id, STREAM, [fig_row("a", Success=True), fig_row("b")])
    rows = stack.ingestion.rows(STREAM)
    assert [r.row["EventId"] for r in rows] == ["a", "b"]
    assert rows[0].row["Success"] is True
    assert rows[0].client_request_id
    assert stack.ingestion.errors() == []
    stats = stack.ingestion.stats()["streams"][STREAM]
    assert (stats["requests"], stats["rows"]) == (1, 2)
    # The SDK gzips list uploads, so fewer bytes cross the wire than are decompressed.
    assert 0 < stats["wire_bytes"] < stats["decompressed_bytes"]


def test_unknown_columns_and_wrong_types_are_dropped_and_logged(
    stack: EmulatorStack, client: LogsIngestionClient
) -> None:
    """The row is kept; an undeclared column and a misfit value are dropped and logged."""
    client.upload(stack.dcr_id, STREAM, [fig_row("a", Success="yes", Colour="red")])
    (stored,) = stack.ingestion.rows(STREAM)
    assert stored.row["Success"] is None
    assert "Colour" not in stored.row
    assert {(e.kind, e.column) for e in stack.ingestion.errors()} == {
        ("TypeMismatch", "Success"),
        ("UnknownColumn", "Colour"),
    }


def test_long_values_are_truncated_and_old_times_replaced(
    stack: EmulatorStack, client: LogsIngestionClient
) -> None:
    """A 70 KB message is cut to 64 KB; a 3-day-old TimeGenerated becomes the receive time."""
    old = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    row = fig_row("a", Message="m" * 70_000, TimeGenerated=old)
    client.upload(stack.dcr_id, STREAM, [row])
    (stored,) = stack.ingestion.rows(STREAM)
    assert len(stored.row["Message"]) == 65_536
    assert stored.row["TimeGenerated"] == stored.received_at.isoformat()
    assert {e.kind for e in stack.ingestion.errors()} == {"Truncated", "TimeGeneratedReplaced"}


def test_oversize_stream_upload_is_413_before_the_body_is_read(
    stack: EmulatorStack, client: LogsIngestionClient
) -> None:
    """A stream body over 1,048,576 bytes gets 413 ContentLengthLimitExceeded with its size."""
    body = b"[" + b" " * 1_048_576 + b"]"
    with pytest.raises(HttpResponseError) as raised:
        client.upload(stack.dcr_id, STREAM, io.BytesIO(body))
    assert raised.value.status_code == 413
    assert raised.value.error is not None
    assert raised.value.error.code == "ContentLengthLimitExceeded"
    assert f"Provided content length: {len(body)} bytes." in str(raised.value.error.message)
    assert stack.ingestion.rows() == []


def test_gzip_stream_is_decompressed(stack: EmulatorStack, client: LogsIngestionClient) -> None:
    """A pre-gzipped stream upload (the SDK adds Content-Encoding) is decompressed and stored."""
    compressed = gzip.compress(json.dumps([fig_row("z")]).encode())
    client.upload(stack.dcr_id, STREAM, io.BytesIO(compressed))
    assert [r.row["EventId"] for r in stack.ingestion.rows()] == ["z"]
    assert stack.ingestion.stats()["streams"][STREAM]["wire_bytes"] == len(compressed)


def test_gzip_bomb_is_413_payload_size_limit(
    stack: EmulatorStack, client: LogsIngestionClient
) -> None:
    """A small gzip body inflating past 50 MiB gets 413 PayloadSizeLimitExceeded."""
    bomb = gzip.compress(b"[" + b" " * (50 * 1024 * 1024) + b"]", compresslevel=9)
    with pytest.raises(HttpResponseError) as raised:
        client.upload(stack.dcr_id, STREAM, io.BytesIO(bomb))
    assert raised.value.status_code == 413
    assert raised.value.error is not None
    assert raised.value.error.code == "PayloadSizeLimitExceeded"


def test_non_array_body_is_a_silent_204(stack: EmulatorStack, client: LogsIngestionClient) -> None:
    """A JSON object body is answered 204 but stores nothing; the error log records it."""
    client.upload(stack.dcr_id, STREAM, io.BytesIO(json.dumps(fig_row("a")).encode()))
    assert stack.ingestion.rows() == []
    assert [e.kind for e in stack.ingestion.errors()] == ["NotAnArray"]


@pytest.mark.parametrize("body", [b"[{", b"[1, 2]"], ids=["not-json", "not-objects"])
def test_malformed_bodies_are_400(
    stack: EmulatorStack, client: LogsIngestionClient, body: bytes
) -> None:
    """Invalid JSON, or an array of non-objects, is refused with 400 and stores nothing."""
    with pytest.raises(HttpResponseError) as raised:
        client.upload(stack.dcr_id, STREAM, io.BytesIO(body))
    assert raised.value.status_code == 400
    assert stack.ingestion.rows() == []


def test_unknown_stream_and_dcr_are_404(stack: EmulatorStack, client: LogsIngestionClient) -> None:
    """A stream the DCR does not declare, or another DCR id, gets 404 with an error code."""
    codes = []
    for rule_id, stream in ((stack.dcr_id, "Custom-Nope"), ("dcr-unknown", STREAM)):
        with pytest.raises(HttpResponseError) as raised:
            client.upload(rule_id, stream, io.BytesIO(b"[]"))
        assert raised.value.status_code == 404
        assert raised.value.error is not None
        codes.append(raised.value.error.code)
    assert codes == ["InvalidStream", "DataCollectionRuleNotFound"]


@pytest.mark.parametrize(
    ("resource", "lifetime"),
    [("https://vault.azure.net", 3600), ("https://monitor.azure.com", -60)],
    ids=["wrong-audience", "expired"],
)
def test_unacceptable_tokens_are_401(
    stack: EmulatorStack, ca: str, resource: str, lifetime: int
) -> None:
    """A token for another audience, or an expired one, gets 401 and stores nothing."""
    token, expires_on = stack.identity.mint(resource, lifetime=lifetime)
    with (
        ingestion_client(stack, StaticTokenCredential(token, expires_on), ca) as logs,
        pytest.raises(ClientAuthenticationError) as raised,
    ):
        logs.upload(stack.dcr_id, STREAM, [fig_row("a")])
    assert raised.value.status_code == 401
    assert stack.ingestion.rows() == []


def test_missing_role_is_403_operation_failed(
    stack: EmulatorStack, client: LogsIngestionClient
) -> None:
    """While the role assignment propagates, uploads get 403 OperationFailed naming the DCR."""
    stack.ingestion.role_missing = True
    with pytest.raises(HttpResponseError) as raised:
        client.upload(stack.dcr_id, STREAM, [fig_row("a")])
    assert raised.value.status_code == 403
    assert raised.value.error is not None
    assert raised.value.error.code == "OperationFailed"
    assert f"immutable Id '{stack.dcr_id}'" in str(raised.value.error.message)
    stack.ingestion.role_missing = False
    client.upload(stack.dcr_id, STREAM, [fig_row("a")])
    assert len(stack.ingestion.rows()) == 1
