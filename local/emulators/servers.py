"""aiohttp servers on 127.0.0.1, run by one background thread with its own asyncio loop.

Each server can be stopped and started again on the same port (an outage, then recovery):
a stop aborts every open connection, and a start builds a fresh app, because aiohttp apps
cannot be restarted; the state lives in the emulator the app is built over.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import threading
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
_T = TypeVar("_T")
_CALL_TIMEOUT = 30.0


@dataclass
class Server:
    """One server: its app factory, TLS (None: plain HTTP) and port (0: a free one)."""

    name: str
    build_app: Callable[[], web.Application]
    tls: ssl.SSLContext | None
    port: int
    runner: web.AppRunner | None = None


class ServerLoop:
    """Starts and stops named servers on a loop thread of its own."""

    def __init__(self) -> None:
        self._servers: dict[str, Server] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether the loop thread runs (between ``start`` and ``stop``)."""
        return self._loop is not None

    def start(self, servers: Iterable[Server]) -> None:
        """Start the loop thread and every server; on a failure stop them all and raise."""
        if self._loop is not None:
            raise RuntimeError("the stack is already running")
        self._servers = {server.name: server for server in servers}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run_loop, name="emulator-stack", daemon=True)
        self._thread.start()
        try:
            for server in self._servers.values():
                self._call(_start_server(server))
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop every server and the loop thread; safe to call twice."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        for server in self._servers.values():
            if server.runner is not None:
                self._call(_stop_server(server))
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=_CALL_TIMEOUT)
        loop.close()
        self._loop = self._thread = None

    def stop_server(self, name: str) -> None:
        """Close one server's listener and connections: clients get connection refused."""
        server = self._servers[name]
        if server.runner is not None:
            self._call(_stop_server(server))

    def start_server(self, name: str) -> None:
        """Bring a stopped server back on the same port."""
        server = self._servers[name]
        if server.runner is None:
            self._call(_start_server(server))

    def port(self, name: str) -> int:
        """The port a server listens on (known once started)."""
        return self._servers[name].port

    def _run_loop(self) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()
        self._loop.run_until_complete(self._loop.shutdown_asyncgens())

    def _call(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        if self._loop is None:
            coroutine.close()
            raise RuntimeError("the stack is not running")
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(timeout=_CALL_TIMEOUT)


async def _start_server(server: Server) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, server.port))
        listener.listen(128)
    except OSError:
        listener.close()
        raise
    server.port = listener.getsockname()[1]
    # A new app per start: aiohttp apps cannot be restarted; the state lives in the emulator.
    runner = web.AppRunner(server.build_app(), access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    await web.SockSite(runner, listener, ssl_context=server.tls).start()
    server.runner = runner
    logger.info("emulator %s listening on %s:%d", server.name, HOST, server.port)


async def _stop_server(server: Server) -> None:
    runner = server.runner
    if runner is None:
        return
    if runner.server is not None:
        # An outage is abrupt: abort every connection. A graceful close would leave TLS
        # transports waiting for the peer's close_notify after the loop is gone.
        for handler in runner.server.connections:
            if handler.transport is not None:
                handler.transport.abort()
        await asyncio.sleep(0)  # Let the connection_lost callbacks run.
    await runner.cleanup()
    server.runner = None
