"""The retry worker (queue trigger) and the dead-letter routes (master key only).

- ``retry_worker``: each message on ``%RETRY_QUEUE_NAME%`` goes to
  ``shared.retrying.worker.deliver_message`` once. It returns for everything it handled
  (delivered, re-queued with backoff, dead-lettered), so the host deletes the message;
  it raises only when storage failed under it, and then the host's own redelivery and
  poison queue take over.
- ``/api/ops/dead-letters...``: see ``shared.retrying.ops``.

The routes live under ``ops/``, not ``admin/``: the Functions host refuses any route
starting with ``admin`` ("The specified route conflicts with one or more built in
routes", even under the ``api`` prefix). They are ``ADMIN`` level: dead letters hold
event data, so only the master key reads or replays them.
"""

from __future__ import annotations

from datetime import UTC, datetime

import azure.functions as func

from blueprints.http import answer
from shared.bootstrap import root
from shared.retrying.receive import handle_message

blueprint = func.Blueprint()  # type: ignore[no-untyped-call]  # untyped in azure-functions

ROUTE = "ops/dead-letters"
OPS = "ops"
GET, POST = frozenset({"GET"}), frozenset({"POST"})


@blueprint.function_name("retry_worker")
@blueprint.queue_trigger(
    arg_name="msg", queue_name="%RETRY_QUEUE_NAME%", connection="AzureWebJobsStorage"
)
async def retry_worker(msg: func.QueueMessage) -> None:
    """Deliver one retry envelope; raise only if it could not be handed back to storage."""
    text = msg.get_body().decode("utf-8", errors="replace")
    bridge = root()
    await handle_message(
        text,
        bridge.retry_deps(),
        bridge.telemetry(),
        now=datetime.now(UTC),
        rng=bridge.rng,
        message_id=msg.id or "",
        dequeue_count=msg.dequeue_count or 0,
    )


@blueprint.function_name("dead_letters_list")
@blueprint.route(route=ROUTE, methods=["GET"], auth_level=func.AuthLevel.ADMIN)
async def dead_letters_list(req: func.HttpRequest) -> func.HttpResponse:
    """Counts per target, the poison queue's depth, and up to ``limit`` summaries."""
    return await answer(root().ops_endpoint(OPS, GET, root().dead_letter_ops().list), req)


@blueprint.function_name("dead_letters_item")
@blueprint.route(route=ROUTE + "/item", methods=["GET"], auth_level=func.AuthLevel.ADMIN)
async def dead_letters_item(req: func.HttpRequest) -> func.HttpResponse:
    """One dead letter's document (with the envelope text), or 404."""
    return await answer(root().ops_endpoint(OPS, GET, root().dead_letter_ops().item), req)


@blueprint.function_name("dead_letters_replay")
@blueprint.route(route=ROUTE + "/replay", methods=["POST"], auth_level=func.AuthLevel.ADMIN)
async def dead_letters_replay(req: func.HttpRequest) -> func.HttpResponse:
    """Put the named dead letters (or all, optionally of one target) back on the queue."""
    return await answer(root().ops_endpoint(OPS, POST, root().dead_letter_ops().replay), req)
