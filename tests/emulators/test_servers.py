"""The server loop: a port already taken fails the start and leaves nothing running."""

from __future__ import annotations

import socket

import pytest
from aiohttp import web

from local.emulators.servers import HOST, Server, ServerLoop


def hello() -> web.Application:
    app = web.Application()

    async def answer(request: web.Request) -> web.Response:
        return web.Response(text="hello")

    app.add_routes([web.get("/", answer)])
    return app


def test_a_taken_port_fails_the_start_and_stops_the_loop() -> None:
    """The second server's port is in use: start raises and the first server is stopped."""
    loop = ServerLoop()
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match="in use"):
            loop.start([Server("first", hello, None, 0), Server("second", hello, None, port)])
    assert not loop.running
    loop.stop()  # Stopping again is harmless.


def test_servers_stop_and_start_on_the_same_port() -> None:
    """A stopped server refuses connections and comes back on its port; a loop starts once."""
    loop = ServerLoop()
    loop.start([Server("only", hello, None, 0)])
    try:
        port = loop.port("only")
        with pytest.raises(RuntimeError, match="already running"):
            loop.start([])
        loop.stop_server("only")
        loop.stop_server("only")  # Already stopped: nothing to do.
        with pytest.raises(ConnectionRefusedError), socket.create_connection((HOST, port)):
            pass
        loop.start_server("only")
        assert loop.port("only") == port
        with socket.create_connection((HOST, port)):
            pass
    finally:
        loop.stop()
    with pytest.raises(RuntimeError, match="not running"):
        loop.start_server("only")
