"""The dead-letter routes' handlers (``/api/ops/dead-letters...``, master key only).

- ``GET /api/ops/dead-letters?limit=&target=``: counts per target, the poison queue's
  depth and the first dead letters;
- ``GET /api/ops/dead-letters/item?name=``: one dead letter, envelope included;
- ``POST /api/ops/dead-letters/replay`` with ``{"names": [...]}`` or
  ``{"all": true, "target": "sentinel:Custom-FigEvents"}``: back on the retry queue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.adapters.retry_storage import RetryStorage
from shared.errors import MalformedPayload, NotFound
from shared.inbound.jsonbody import parse_json_object
from shared.inbound.pipeline import Reply
from shared.inbound.request import InboundRequest
from shared.retrying.replay import MAX_REPLAY, list_dead_letters, replay


@dataclass(frozen=True)
class DeadLetterOps:
    """The dead-letter routes over the retry storage (built on first use)."""

    storage: Callable[[], RetryStorage]

    async def list(self, request: InboundRequest) -> Reply:
        """Counts per target, the poison queue's depth, and up to ``limit`` summaries."""
        limit = _limit(request.params.get("limit"))
        storage = self.storage()
        listed = await list_dead_letters(
            storage.dead_letters, limit=limit, target=request.params.get("target")
        )
        return Reply(200, listed | {"poisonQueue": await storage.poison.depth()})

    async def item(self, request: InboundRequest) -> Reply:
        """One dead letter's document (with the envelope text), or 404."""
        try:
            dead = await self.storage().dead_letters.get(request.params.get("name", ""))
        except ValueError:
            raise MalformedPayload("name is not a dead letter's name.") from None
        if dead is None:
            raise NotFound("No such dead letter.")
        return Reply(200, {"name": dead.name, **dead.document})

    async def replay(self, request: InboundRequest) -> Reply:
        """Put the named dead letters (or all, optionally of one target) back on the queue."""
        names, replay_all, target = _replay_request(request.body)
        storage = self.storage()
        try:
            report = await replay(
                storage.dead_letters,
                storage.queue,
                names=names,
                replay_all=replay_all,
                target=target,
                now=datetime.now(UTC),
            )
        except ValueError as error:  # a name that is not a dead letter's
            raise MalformedPayload(str(error)) from None
        return Reply(503 if report.failed else 200, report.as_json())


def _limit(text: str | None) -> int:
    if text is None:
        return 100
    if not text.isdigit() or not 1 <= int(text) <= MAX_REPLAY:
        raise MalformedPayload(f"limit must be a whole number from 1 to {MAX_REPLAY}.")
    return int(text)


def _replay_request(body: bytes) -> tuple[list[str], bool, str | None]:
    """``{"names": [...]}`` or ``{"all": true, "target"?: "..."}``.

    Raises:
        MalformedPayload: anything else (the one body parser's rules, then these).
    """
    document: dict[str, Any] = parse_json_object(body or b"{}")
    if set(document) - {"names", "all", "target"}:
        raise MalformedPayload('Send {"names": [...]} or {"all": true, "target": "..."}.')
    names = document.get("names", [])
    replay_all = document.get("all", False)
    target = document.get("target")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise MalformedPayload("names must be a list of dead letter names.")
    if replay_all is not True and (replay_all is not False or not names):
        raise MalformedPayload('Send {"names": [...]} or {"all": true}.')
    if replay_all and names:
        raise MalformedPayload("Send names or all, not both.")
    if target is not None and (not isinstance(target, str) or not replay_all):
        raise MalformedPayload("target is a string, and goes with all.")
    return names, replay_all, target
