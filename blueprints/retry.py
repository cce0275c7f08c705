"""The retry worker (queue trigger) and the dead-letter routes (master key only).

- ``retry_worker``: each message on ``%RETRY_QUEUE_NAME%`` goes to
  ``shared.retry.deliver_message`` once. It returns for everything it handled
  (delivered, re-queued with backoff, dead-lettered), so the host deletes the message;
  it raises only when storage failed under it, and then the host's own redelivery and
  poison queue take over.
- ``GET /api/ops/dead-letters?limit=&target=``: counts per target and the first dead
  letters; ``GET /api/ops/dead-letters/item?name=``: one dead letter, envelope included;
  ``POST /api/ops/dead-letters/replay`` with ``{"names": [...]}`` or
  ``{"all": true, "target": "sentinel:Custom-FigEvents"}``: back on the retry queue.

The routes live under ``ops/``, not ``admin/``: the Functions host refuses any route
starting with ``admin`` ("The specified route conflicts with one or more built in
routes", even under the ``api`` prefix). They are ``ADMIN`` level: dead letters hold
event data, so only the master key reads or replays them.
"""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime
from typing import Any

import azure.functions as func

from blueprints.http import to_response
from shared.bootstrap import get_bridge, get_retry_deps, get_retry_storage
from shared.counting import record_retry
from shared.errors import BridgeError, MalformedPayload
from shared.intake import Reply, error_reply
from shared.jsonbody import parse_json
from shared.replay import MAX_REPLAY, list_dead_letters, replay
from shared.retry import deliver_message

logger = logging.getLogger(__name__)

blueprint = func.Blueprint()  # type: ignore[no-untyped-call]  # untyped in azure-functions
_jitter = random.Random()  # noqa: S311  # backoff jitter, not a secret
ROUTE = "ops/dead-letters"
_EDGE = "dead-letters"


@blueprint.function_name("retry_worker")
@blueprint.queue_trigger(
    arg_name="msg", queue_name="%RETRY_QUEUE_NAME%", connection="AzureWebJobsStorage"
)
async def retry_worker(msg: func.QueueMessage) -> None:
    """Deliver one retry envelope; raise only if it could not be handed back to storage."""
    text = msg.get_body().decode("utf-8", errors="replace")
    outcome = await deliver_message(text, get_retry_deps(), now=datetime.now(UTC), rng=_jitter)
    record_retry(get_bridge(), outcome)
    logger.info(
        "Retry message %s (dequeue %s): %s", msg.id, msg.dequeue_count, outcome.result.value
    )


@blueprint.function_name("dead_letters_list")
@blueprint.route(route=ROUTE, methods=["GET"], auth_level=func.AuthLevel.ADMIN)
async def dead_letters_list(req: func.HttpRequest) -> func.HttpResponse:
    """Counts per target, the poison queue's depth, and up to ``limit`` summaries."""
    try:
        limit = _limit(req.params.get("limit"))
        storage = get_retry_storage()
        listed = await list_dead_letters(
            storage.dead_letters, limit=limit, target=req.params.get("target")
        )
        body = listed | {"poisonQueue": await storage.poison.depth()}
    except BridgeError as error:
        return to_response(error_reply(error, source=_EDGE))
    return to_response(Reply(200, body))


@blueprint.function_name("dead_letters_item")
@blueprint.route(route=ROUTE + "/item", methods=["GET"], auth_level=func.AuthLevel.ADMIN)
async def dead_letters_item(req: func.HttpRequest) -> func.HttpResponse:
    """One dead letter's document (with the envelope text), or 404."""
    try:
        store = get_retry_storage().dead_letters
        dead = await store.get(req.params.get("name", ""))
    except ValueError:
        return to_response(
            error_reply(MalformedPayload("name is not a dead letter's name."), source=_EDGE)
        )
    except BridgeError as error:
        return to_response(error_reply(error, source=_EDGE))
    if dead is None:
        return to_response(
            Reply(404, {"error": {"code": "NotFound", "message": "No such dead letter."}})
        )
    return to_response(Reply(200, {"name": dead.name, **dead.document}))


@blueprint.function_name("dead_letters_replay")
@blueprint.route(route=ROUTE + "/replay", methods=["POST"], auth_level=func.AuthLevel.ADMIN)
async def dead_letters_replay(req: func.HttpRequest) -> func.HttpResponse:
    """Put the named dead letters (or all, optionally of one target) back on the queue."""
    try:
        names, replay_all, target = _replay_request(req.get_body())
        storage = get_retry_storage()
        report = await replay(
            storage.dead_letters,
            storage.queue,
            names=names,
            replay_all=replay_all,
            target=target,
            now=datetime.now(UTC),
        )
    except ValueError as error:
        return to_response(error_reply(MalformedPayload(str(error)), source=_EDGE))
    except BridgeError as error:
        return to_response(error_reply(error, source=_EDGE))
    status = 503 if report.failed else 200
    return to_response(Reply(status, report.as_json()))


def _limit(text: str | None) -> int:
    if text is None:
        return 100
    if not text.isdigit() or not 1 <= int(text) <= MAX_REPLAY:
        raise MalformedPayload(f"limit must be a whole number from 1 to {MAX_REPLAY}.")
    return int(text)


def _replay_request(body: bytes) -> tuple[list[str], bool, str | None]:
    """``{"names": [...]}`` or ``{"all": true, "target"?: "..."}``; ValueError otherwise."""
    # the one body parser: hostile JSON is a MalformedPayload (400) with its own code
    document: Any = parse_json(body) if body.strip() else {}
    if not isinstance(document, dict) or set(document) - {"names", "all", "target"}:
        raise ValueError('Send {"names": [...]} or {"all": true, "target": "..."}.')
    names = document.get("names", [])
    replay_all = document.get("all", False)
    target = document.get("target")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError("names must be a list of dead letter names.")
    if replay_all is not True and (replay_all is not False or not names):
        raise ValueError('Send {"names": [...]} or {"all": true}.')
    if replay_all and names:
        raise ValueError("Send names or all, not both.")
    if target is not None and (not isinstance(target, str) or not replay_all):
        raise ValueError("target is a string, and goes with all.")
    return names, replay_all, target
