"""The local host toward hostile clients: nothing echoed, read timeouts, the body limit."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.azurite import Azurite
from local.host.hardening import Limits
from local.host.ports import LOOPBACK
from local.host.process import LocalHostProcess
from tests.host.conftest import HERE, SAMPLE_APP
from tests.host.support import call
from tests.logscan import remember_log_file, remember_secret

SECRET = remember_secret("hostile-header-secret-0f4f2b6a")
LIMIT = 4096


@pytest.fixture(scope="module")
def strict_host(
    azurite: Azurite, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalHostProcess]:
    """The sample app behind a host with a small body limit and short read timeouts."""
    work_dir = tmp_path_factory.mktemp("strict-host")
    host = LocalHostProcess(
        SAMPLE_APP,
        env={
            "SAMPLE_OUT_DIR": str(work_dir),
            "SAMPLE_QUEUE": f"strict-{uuid.uuid4().hex[:8]}",
            "SAMPLE_TIMER_SCHEDULE": "0 0 0 1 1 *",
            "SampleStorage": azurite.connection_string,
            "FUNCTIONS_REQUEST_BODY_SIZE_LIMIT": str(LIMIT),
            "LOCAL_HOST_HEADER_TIMEOUT_SECONDS": "1",
            "LOCAL_HOST_BODY_TIMEOUT_SECONDS": "1",
        },
        host_json=HERE / "host.json",
        keys_path=work_dir / "function-keys.json",
        log_path=work_dir / "host.log",
    )
    remember_log_file(host.log_path)
    with host:
        yield host


def raw_exchange(host: LocalHostProcess, data: bytes, *, timeout: float = 20.0) -> bytes:
    """Send ``data`` on a fresh connection; return everything read until the host closes."""
    port = int(host.base_url.rsplit(":", 1)[1])
    with socket.create_connection((LOOPBACK, port), timeout=timeout) as connection:
        connection.sendall(data)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
        return received


def status_of(reply: bytes) -> int:
    """The status code of a raw HTTP reply (0 when there is none)."""
    line = reply.split(b"\r\n", 1)[0].split()
    return int(line[1]) if len(line) > 1 and line[0].startswith(b"HTTP/1.") else 0


def test_a_malformed_header_is_not_echoed_or_logged(strict_host: LocalHostProcess) -> None:
    """aiohttp's 400 would quote the bad line (and log it): the reply and log hold no byte of it."""
    reply = raw_exchange(
        strict_host,
        b"POST /api/echo HTTP/1.1\r\nHost: x\r\nAuthorization Secret "
        + SECRET.encode()
        + b"\r\nContent-Length: 0\r\n\r\n",
    )
    assert status_of(reply) == 400
    assert SECRET.encode() not in reply
    assert SECRET not in strict_host.logs()
    assert "Refused a malformed request: 400" in strict_host.logs()


def test_a_declared_body_over_the_limit_is_413_before_it_is_sent(
    strict_host: LocalHostProcess,
) -> None:
    """Only the head is sent: the 413 comes from Content-Length, not from reading the body."""
    reply = raw_exchange(
        strict_host,
        b"POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n",
    )
    assert status_of(reply) == 413


def test_a_chunked_body_over_the_limit_is_413(strict_host: LocalHostProcess) -> None:
    """Without a declared length the limit still holds while reading."""
    reply = call("POST", strict_host.url("api/echo"), body=iter([b"x" * (LIMIT + 1)]))  # type: ignore[arg-type]
    assert reply.status == 413


def test_a_body_within_the_limit_reaches_the_function(strict_host: LocalHostProcess) -> None:
    """The limit does not touch ordinary bodies."""
    assert call("POST", strict_host.url("api/echo"), body=b"x" * LIMIT).status == 200


def test_a_request_head_that_never_ends_is_closed(strict_host: LocalHostProcess) -> None:
    """A client that sends half a head and stalls is disconnected (no reply owed)."""
    reply = raw_exchange(strict_host, b"GET /api/text HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    assert reply == b""
    assert "no request head within 1s" in strict_host.logs()


def test_an_idle_kept_alive_connection_is_closed(strict_host: LocalHostProcess) -> None:
    """After a reply, the next head is timed again: a client that goes quiet is disconnected."""
    reply = raw_exchange(strict_host, b"GET /api/text HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status_of(reply) == 201
    assert reply.endswith("grüße".encode())


def test_expect_100_continue_gets_its_interim_reply(strict_host: LocalHostProcess) -> None:
    """ "100 Continue" comes before the final reply, as aiohttp's router sent it."""
    reply = raw_exchange(
        strict_host,
        b"POST /api/echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
        b"Content-Length: 2\r\nConnection: close\r\n\r\nhi",
    )
    assert reply.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n")
    assert reply.endswith(b"\r\n\r\nhi")


def test_an_unknown_expectation_is_an_empty_417(strict_host: LocalHostProcess) -> None:
    """Any other Expect value is refused without quoting it back."""
    reply = raw_exchange(
        strict_host,
        b"POST /api/echo HTTP/1.1\r\nHost: x\r\nExpect: " + SECRET.encode() + b"\r\n"
        b"Content-Length: 2\r\nConnection: close\r\n\r\nhi",
    )
    assert status_of(reply) == 417
    assert reply.endswith(b"\r\n\r\n")
    assert SECRET.encode() not in reply


def test_a_body_that_stalls_is_408(strict_host: LocalHostProcess) -> None:
    """A body that stops arriving is answered 408 and the connection closed."""
    reply = raw_exchange(
        strict_host, b"POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc"
    )
    assert status_of(reply) == 408


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, Limits()),
        (
            {
                "FUNCTIONS_REQUEST_BODY_SIZE_LIMIT": "1024",
                "LOCAL_HOST_HEADER_TIMEOUT_SECONDS": "2.5",
                "LOCAL_HOST_BODY_TIMEOUT_SECONDS": "7",
            },
            Limits(1024, 2.5, 7.0),
        ),
    ],
)
def test_limits_are_read_from_settings(environ: dict[str, str], expected: Limits) -> None:
    """Defaults: 16 MiB, 30 s for a head, 60 s for a body; each can be set."""
    assert Limits.from_env(environ) == expected


def test_a_limit_that_is_not_positive_stops_the_host(tmp_path: Path) -> None:
    """A zero or negative limit is a configuration error, named."""
    with pytest.raises(ValueError, match="FUNCTIONS_REQUEST_BODY_SIZE_LIMIT"):
        Limits.from_env({"FUNCTIONS_REQUEST_BODY_SIZE_LIMIT": "0"})
