"""A FunctionApp exercising what the local host serves; the host tests drive it over HTTP.

It reads ``SAMPLE_OUT_DIR`` (where it records invocations as JSON lines),
``SAMPLE_QUEUE`` and ``SAMPLE_TIMER_SCHEDULE`` from the environment at call time, as
app settings.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from pathlib import Path
from typing import Any

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)

_record_lock = threading.Lock()
_in_flight = 0
_max_in_flight = 0


def _record(kind: str, entry: dict[str, Any]) -> None:
    path = Path(os.environ["SAMPLE_OUT_DIR"]) / f"{kind}.jsonl"
    with _record_lock, path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(entry) + "\n")


@app.route(route="hello/{name}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def hello(req: func.HttpRequest) -> func.HttpResponse:
    """A sync route: echoes its route parameter and query as JSON."""
    reply = {"name": req.route_params.get("name"), "params": dict(req.params), "url": req.url}
    return func.HttpResponse(json.dumps(reply), mimetype="application/json")


@app.route(route="echo", methods=["POST", "PUT"], auth_level=func.AuthLevel.ANONYMOUS)
async def echo(req: func.HttpRequest) -> func.HttpResponse:
    """Returns the body as sent, with the status and a header the query asks for."""
    return func.HttpResponse(
        req.get_body(),
        status_code=int(req.params.get("status", "200")),
        headers={"X-Echo-Method": req.method, "X-Echo-Length": str(len(req.get_body()))},
        mimetype=req.params.get("mimetype", "application/octet-stream"),
    )


@app.route(route="text", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def text(req: func.HttpRequest) -> func.HttpResponse:
    """A text response with the defaults (text/plain, utf-8)."""
    return func.HttpResponse("grüße", status_code=201)


@app.route(route="items/{id:int}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def item(req: func.HttpRequest) -> func.HttpResponse:
    """A constrained route: only integer ids reach it."""
    return func.HttpResponse(f"item {req.route_params['id']}")


@app.route(route="files/{*path}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def files(req: func.HttpRequest) -> func.HttpResponse:
    """A catch-all route."""
    return func.HttpResponse(req.route_params.get("path", "<none>"))


@app.route(route="secure", methods=["GET"])
def secure(req: func.HttpRequest) -> func.HttpResponse:
    """FUNCTION level (the app default): needs a function or master key."""
    return func.HttpResponse("secure ok")


@app.route(route="operator", methods=["GET"], auth_level=func.AuthLevel.ADMIN)
def operator(req: func.HttpRequest) -> func.HttpResponse:
    """ADMIN level: needs the master key."""
    return func.HttpResponse("admin ok")


@app.route(route="boom", auth_level=func.AuthLevel.ANONYMOUS)
def boom(req: func.HttpRequest) -> func.HttpResponse:
    """Raises, so the host must answer 500."""
    raise RuntimeError("sample failure")


@app.route(route="slow", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
async def slow(req: func.HttpRequest) -> func.HttpResponse:
    """Holds the request a moment and reports how many ran at once on the loop."""
    global _in_flight, _max_in_flight  # a deliberate process-wide probe
    _in_flight += 1
    _max_in_flight = max(_max_in_flight, _in_flight)
    try:
        await asyncio.sleep(float(req.params.get("seconds", "0.5")))
    finally:
        _in_flight -= 1
    return func.HttpResponse(json.dumps({"max_in_flight": _max_in_flight}))


@app.timer_trigger(arg_name="timer", schedule="%SAMPLE_TIMER_SCHEDULE%")
def tick(timer: func.TimerRequest) -> None:
    """Records each run; the first run fails, so later runs show the schedule survived."""
    path = Path(os.environ["SAMPLE_OUT_DIR"]) / "timer.jsonl"
    first = not path.exists()
    _record("timer", {"past_due": timer.past_due, "thread": threading.current_thread().name})
    if first:
        raise RuntimeError("first timer run fails on purpose")


@app.queue_trigger(arg_name="msg", queue_name="%SAMPLE_QUEUE%", connection="SampleStorage")
async def work(msg: func.QueueMessage) -> None:
    """Records every attempt; bodies starting "fail" raise, "sleep:N:tag" sleep N seconds."""
    body = msg.get_body().decode("utf-8")
    failing = body.startswith("fail")
    _record(
        "queue",
        {"id": msg.id, "body": body, "dequeue_count": msg.dequeue_count, "failing": failing},
    )
    if body.startswith("sleep:"):
        await asyncio.sleep(float(body.split(":")[1]))
    if failing:
        raise ValueError("sample queue failure")
