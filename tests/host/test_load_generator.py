"""The bench's load generator over real HTTP: events shared between processes, each sent once."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from typing import ClassVar

import pytest

from bench.load import run_split


class _Recorder(http.server.BaseHTTPRequestHandler):
    bodies: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        self.bodies.append(self.rfile.read(length))
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[bytes]]]:
    _Recorder.bodies = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/fig", _Recorder.bodies
    finally:
        server.shutdown()
        server.server_close()


def test_processes_send_every_event_once(recorder: tuple[str, list[bytes]]) -> None:
    url, bodies = recorder

    (result,) = run_split([url], "secret", events=11, senders=3, processes=2)

    users = [json.loads(body)["Username"] for body in bodies]
    assert sorted(users) == sorted(f"user{index}" for index in range(11))
    assert result.events == 11
    assert result.statuses == {202: 11}
    assert len(result.latencies) == 11
