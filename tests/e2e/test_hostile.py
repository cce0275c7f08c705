"""Hostile senders through the local host over HTTP (issue 11): each case under "Why" is
answered as specified, and nothing is lost or leaked."""

from __future__ import annotations

import socket
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from local.emulators.stack import EmulatorStack
from local.host.ports import LOOPBACK
from local.host.process import LocalHostProcess
from tests.azure_fixtures import FigCredentials
from tests.payloads import FIG_EVENTS, raw

pytestmark = pytest.mark.e2e
FIG_BODY = raw(FIG_EVENTS["SecurityEvent"])


def post(
    host: LocalHostProcess, path: str, body: bytes, headers: dict[str, str]
) -> requests.Response:
    return requests.post(host.url(path), data=body, headers=headers, timeout=60)


def raw_exchange(host: LocalHostProcess, data: bytes) -> bytes:
    port = int(host.base_url.rsplit(":", 1)[1])
    with socket.create_connection((LOOPBACK, port), timeout=30) as connection:
        connection.sendall(data)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
        return received


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b'{"Success": true, "Success": false}', "DuplicateKey"),
        (b'{"UserName": "\\ud800"}', "InvalidText"),
        (b'{"Count": 1e400}', "NonFiniteNumber"),
        (b'{"a":' * 970 + b"1" + b"}" * 970, "NestedTooDeep"),
    ],
)
def test_hostile_fig_bodies_are_400_with_a_code(
    host: LocalHostProcess, emulators: EmulatorStack, fig: FigCredentials, body: bytes, code: str
) -> None:
    """Past authentication, each hostile shape is a 400 naming the rule; no row, no 5xx."""
    response = post(
        host,
        "/api/fig/SecurityEvent",
        body,
        {"Authorization": fig.header, "Content-Type": "application/json"},
    )
    assert (response.status_code, response.json()["error"]["code"]) == (400, code)
    assert emulators.ingestion.rows("Custom-FigEvents") == []


def test_hostile_wallarm_batches_are_400(
    host: LocalHostProcess, emulators: EmulatorStack, wallarm_token: str
) -> None:
    """Wallarm (NDJSON, any field) gets the same answers from the same parser."""
    for body in (b'{"a": 1}\n{"b": 1e400}', b"[" * 1000 + b"]" * 1000):
        response = post(host, "/api/wallarm", body, {"X-Auth-Token": wallarm_token})
        assert response.status_code == 400, response.text
    assert emulators.ingestion.rows("Custom-WallarmEvents") == []


def test_xml_on_fig_is_415(host: LocalHostProcess, fig: FigCredentials) -> None:
    """The README's promise: a Content-Type that cannot be JSON is 415."""
    response = post(
        host,
        "/api/fig/SecurityEvent",
        FIG_BODY,
        {"Authorization": fig.header, "Content-Type": "application/xml"},
    )
    assert (response.status_code, response.json()["error"]["code"]) == (
        415,
        "UnsupportedMediaType",
    )


def test_a_wrong_secret_flood_gets_429_and_the_real_sender_still_lands(
    host: LocalHostProcess, emulators: EmulatorStack, fig: FigCredentials
) -> None:
    """40 concurrent wrong secrets from one address: only 401 or 429 (with Retry-After), and
    Fig's real post from its own address is answered 202 with its row."""
    flood = {"Content-Type": "application/json", "X-Forwarded-For": "203.0.113.99:1000"}

    def wrong(_: int) -> requests.Response:
        return post(
            host,
            "/api/fig/SecurityEvent",
            FIG_BODY,
            {**flood, "Authorization": f"Secret {uuid.uuid4()}"},
        )

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(wrong, range(40)))
    statuses = {r.status_code for r in answers}
    assert statuses <= {401, 429}
    assert 429 in statuses
    assert all(r.headers.get("Retry-After") for r in answers if r.status_code == 429)
    real = post(
        host,
        "/api/fig/SecurityEvent",
        FIG_BODY,
        {
            "Authorization": fig.header,
            "Content-Type": "application/json",
            "X-Forwarded-For": "198.51.100.7:2000",
        },
    )
    assert real.status_code == 202
    assert len(emulators.ingestion.rows("Custom-FigEvents")) == 1


def test_a_declared_95_mib_body_is_413_before_it_is_read(host: LocalHostProcess) -> None:
    """Only the head is sent: the host refuses from Content-Length (16 MiB limit)."""
    reply = raw_exchange(
        host,
        b"POST /api/fig/SecurityEvent HTTP/1.1\r\nHost: x\r\nContent-Length: 99614720\r\n\r\n",
    )
    assert reply.split(b"\r\n", 1)[0].split()[1] == b"413"


def test_a_malformed_header_with_a_secret_is_neither_echoed_nor_logged(
    host: LocalHostProcess, fig: FigCredentials
) -> None:
    """aiohttp's default 400 quoted the line: the Fig secret must not come back or be logged."""
    reply = raw_exchange(
        host,
        b"POST /api/fig/SecurityEvent HTTP/1.1\r\nHost: x\r\nAuthorization Secret "
        + fig.secret.encode()
        + b"\r\nContent-Length: 2\r\n\r\n{}",
    )
    assert reply.split(b"\r\n", 1)[0].split()[1] == b"400"
    assert fig.secret.encode() not in reply
    assert fig.secret not in host.logs()
