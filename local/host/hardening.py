"""Where the local host copies the real front end's manners toward hostile clients (issue 11).

- **No request bytes echoed.** aiohttp answers a malformed request line or header with a
  400 whose text quotes the offending line, and logs it with its traceback; a secret in a
  header then lands in the reply and in ``host.log``. Here such errors get an empty body
  (as Kestrel sends) and one log line naming only the status and the error's type.
- **Read timeouts.** A connection must deliver a complete request head within
  ``LOCAL_HOST_HEADER_TIMEOUT_SECONDS`` (default 30; also the idle limit between requests
  on a kept-alive connection), and a body within ``LOCAL_HOST_BODY_TIMEOUT_SECONDS``
  (default 60) of its head, or it is closed (408 for a body).
- **Body size.** ``FUNCTIONS_REQUEST_BODY_SIZE_LIMIT`` (bytes; the platform's default is
  100 MB, this project sets 16 MiB, so does the local host when it is unset) is enforced
  from the declared ``Content-Length`` before any body byte is read (413), and while
  reading a body sent without one.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import hdrs, web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.http import HttpVersion11, RawRequestMessage
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

logger = logging.getLogger(__name__)

BODY_LIMIT_ENV = "FUNCTIONS_REQUEST_BODY_SIZE_LIMIT"
HEADER_TIMEOUT_ENV = "LOCAL_HOST_HEADER_TIMEOUT_SECONDS"
BODY_TIMEOUT_ENV = "LOCAL_HOST_BODY_TIMEOUT_SECONDS"
DEFAULT_BODY_LIMIT = 16 * 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """The host's limits on what a client may send, and how slowly."""

    body_bytes: int = DEFAULT_BODY_LIMIT
    header_timeout: float = 30.0
    body_timeout: float = 60.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Limits:
        """Read the limits (the settings file is already in the environment).

        Raises:
            ValueError: a limit that is not a positive number.
        """

        def number(name: str, default: float) -> float:
            text = environ.get(name, "").strip()
            value = float(text) if text else default
            if value <= 0:
                raise ValueError(f"{name} must be a positive number")
            return value

        return cls(
            body_bytes=int(number(BODY_LIMIT_ENV, DEFAULT_BODY_LIMIT)),
            header_timeout=number(HEADER_TIMEOUT_ENV, 30.0),
            body_timeout=number(BODY_TIMEOUT_ENV, 60.0),
        )


def limits_from_os() -> Limits:
    """:meth:`Limits.from_env` over ``os.environ``."""
    return Limits.from_env(os.environ)


class QuietRequestHandler(RequestHandler):
    """aiohttp's protocol handler without echoed errors, with a request-head timeout."""

    __slots__ = ("_head_deadline", "_head_timeout", "_head_timer")

    def __init__(self, *args: Any, head_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timeout = head_timeout
        # Re-arming per request only moves the deadline; the one timer per connection
        # checks it when it fires (a call_later and a cancel per request cost more).
        self._head_deadline: float | None = None
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Start waiting for the first request head."""
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: BaseException | None) -> None:
        """Stop the head timer with the connection."""
        self._head_deadline = None
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().connection_lost(exc)

    async def _handle_request(
        self,
        request: BaseRequest,
        start_time: float | None,
        request_handler: Callable[[BaseRequest], Awaitable[web.StreamResponse]],
    ) -> tuple[web.StreamResponse, bool]:
        self._head_deadline = None  # a head arrived; the body has its own timeout
        try:
            return await super()._handle_request(request, start_time, request_handler)
        finally:
            self._arm()  # the next head (or the idle connection) is timed again

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """An empty reply; the log names the status and the error type, never its text."""
        logger.info(
            "Refused a malformed request: %d (%s)", status, type(exc).__name__ if exc else "-"
        )
        if request.writer.output_size > 0:
            raise ConnectionError("Response is sent already")
        response = web.Response(status=status)
        response.force_close()
        return response

    def _arm(self) -> None:
        if self.transport is None:
            return
        loop = asyncio.get_running_loop()
        self._head_deadline = loop.time() + self._head_timeout
        if self._head_timer is None:
            self._head_timer = loop.call_at(self._head_deadline, self._head_check)

    def _head_check(self) -> None:
        self._head_timer = None
        deadline = self._head_deadline
        if deadline is None or self.transport is None:
            return  # a request is being handled; the next _arm() starts a timer
        loop = asyncio.get_running_loop()
        if loop.time() < deadline:
            self._head_timer = loop.call_at(deadline, self._head_check)
            return
        self._head_deadline = None
        logger.info("Closed a connection: no request head within %gs", self._head_timeout)
        self.transport.close()


class QuietServer(web.Server):
    """A low-level ``web.Server``: quiet connections, the body limit on every request.

    No ``web.Application`` sits between it and the handler: the host routes each request
    itself (``HttpTriggers.handle``), saving the router's work on every request.
    """

    def __init__(
        self,
        handler: Callable[[BaseRequest], Awaitable[web.StreamResponse]],
        limits: Limits,
        **kwargs: Any,
    ) -> None:
        self._limits = limits
        super().__init__(handler, request_factory=self._limited_request, **kwargs)

    def _limited_request(
        self,
        message: RawRequestMessage,
        payload: StreamReader,
        protocol: RequestHandler,
        writer: AbstractStreamWriter,
        task: asyncio.Task[None],
    ) -> BaseRequest:
        return BaseRequest(
            message,
            payload,
            protocol,
            writer,
            task,
            self._loop,
            client_max_size=self._limits.body_bytes,
        )

    def __call__(self) -> RequestHandler:
        return QuietRequestHandler(
            self,
            loop=self._loop,
            head_timeout=self._limits.header_timeout,
            **self._kwargs,
        )


def quiet_runner(
    handler: Callable[[BaseRequest], Awaitable[web.StreamResponse]], limits: Limits
) -> web.ServerRunner:
    """A runner serving ``handler`` through :class:`QuietServer`, without an access log."""
    return web.ServerRunner(QuietServer(handler, limits, access_log=None))


async def answer_expect(request: BaseRequest) -> web.Response | None:
    """What aiohttp's router did for an ``Expect`` header, minus the echo.

    ``100-continue`` gets its interim "100 Continue"; any other expectation on HTTP/1.1 is
    an empty 417 (aiohttp's reply quoted the header back).
    """
    if request.version == HttpVersion11:
        if request.headers.get(hdrs.EXPECT, "").lower() != "100-continue":
            return web.Response(status=417)
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        request.writer.output_size = 0  # the final reply has not started
    await request.writer.drain()
    return None


async def read_body(request: BaseRequest, limits: Limits) -> bytes | web.Response:
    """The body, or the empty error reply the host sends instead (413 or 408)."""
    declared = request.content_length
    if declared is not None and declared > limits.body_bytes:
        logger.info("413: declared body of %d bytes is over %d", declared, limits.body_bytes)
        return _closing(413)
    try:
        if request.content.is_eof():
            # The whole body is buffered already: reading cannot stall, so no timeout
            # (one per request costs a timer and a context manager).
            return await request.read()
        async with asyncio.timeout(limits.body_timeout):
            return await request.read()
    except web.HTTPRequestEntityTooLarge:
        logger.info("413: body over %d bytes", limits.body_bytes)
        return _closing(413)
    except TimeoutError:
        logger.info("408: body not received within %gs", limits.body_timeout)
        return _closing(408)


def _closing(status: int) -> web.Response:
    response = web.Response(status=status)
    response.force_close()
    return response
