"""What the host logs per HTTP invocation, in process: failures one by one, the rest counted."""

from __future__ import annotations

import asyncio
import logging

import azure.functions as func
import pytest
from aiohttp.test_utils import RawTestServer, TestClient
from aiohttp.web_request import BaseRequest

from local.host.config import FunctionKeys
from local.host.http_trigger import HttpTriggers
from local.host.loader import index_functions
from local.host.summary import InvocationSummary


class FakeClock:
    """Monotonic seconds that move only when told."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def sample_app() -> func.FunctionApp:
    """An echo of ?status=, and a function that raises."""
    app = func.FunctionApp()

    @app.route(route="status", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
    async def status(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse(status_code=int(req.params["code"]))

    @app.route(route="boom", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
    def boom(req: func.HttpRequest) -> func.HttpResponse:
        raise RuntimeError("boom on purpose")

    return app


def run_requests(summary: InvocationSummary, paths: list[str]) -> list[int]:
    """Send GETs for ``paths`` through an HttpTriggers app; the statuses in order."""
    triggers = HttpTriggers(
        index_functions(sample_app()), "api", FunctionKeys("master", {}), summary=summary
    )

    async def send_all() -> list[int]:
        client: TestClient[BaseRequest, None] = TestClient(RawTestServer(triggers.handle))
        async with client:
            statuses = []
            for path in paths:
                async with client.get(path) as response:
                    statuses.append(response.status)
            return statuses

    return asyncio.run(send_all())


def test_successes_are_counted_and_failures_logged_each(caplog: pytest.LogCaptureFixture) -> None:
    """Below 500: DEBUG and the summary; a 5xx or an exception: an INFO or ERROR line each."""
    clock = FakeClock()
    summary = InvocationSummary(clock=clock)
    paths = ["/api/status?code=202"] * 3 + ["/api/status?code=401", "/api/status?code=503"]
    with caplog.at_level(logging.DEBUG, logger="local.host"):
        statuses = run_requests(summary, [*paths, "/api/boom"])
    assert statuses == [202, 202, 202, 401, 503, 500]
    executed = [
        (record.levelno, record.getMessage().split(", GET")[0])
        for record in caplog.records
        if record.getMessage().startswith("Executed")
    ]
    assert executed == [
        *[(logging.DEBUG, "Executed status (Succeeded, status 202")] * 3,
        (logging.DEBUG, "Executed status (Succeeded, status 401"),
        (logging.INFO, "Executed status (Succeeded, status 503"),
        (logging.ERROR, "Executed boom (Failed"),
    ]
    clock.now = 10.0
    lines = [line.split("; max")[0] for line in summary.lines()]
    assert lines == [
        "status: 5 invocations in the last 10 s: 202 x3, 401 x1, 503 x1",
        "boom: 1 invocations in the last 10 s: 500 x1",
    ]
