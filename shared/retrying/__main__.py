"""``python -m shared.retrying``: list, replay and re-queue dead letters from a shell.

The same service as ``/api/ops/dead-letters``, over the settings in the environment
(``local.settings.json``'s values, or the app settings copied into a shell).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from shared.bootstrap import root
from shared.errors import ConfigError, UpstreamUnavailable
from shared.retrying.replay import MAX_REPLAY, list_dead_letters, replay


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m shared.retrying``: list or replay dead letters; prints JSON."""
    parser = argparse.ArgumentParser(
        prog="python -m shared.retrying", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="list dead letters, with counts per target")
    listing.add_argument("--limit", type=int, default=100)
    listing.add_argument("--target", help="only this target, e.g. sentinel:Custom-FigEvents")
    replaying = commands.add_parser("replay", help="put dead letters back on the retry queue")
    replaying.add_argument("names", nargs="*", metavar="NAME")
    replaying.add_argument("--all", action="store_true", help=f"up to {MAX_REPLAY} at once")
    replaying.add_argument("--target", help="with --all: only this target")
    poison = commands.add_parser(
        "poison", help="move the host's <queue>-poison messages back to the retry queue"
    )
    poison.add_argument("--limit", type=int, default=MAX_REPLAY)
    args = parser.parse_args(argv)
    if args.command == "replay" and bool(args.names) == bool(args.all):
        parser.error("give dead letter names, or --all")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    try:
        result = asyncio.run(_run(args))
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    except (ValueError, UpstreamUnavailable) as error:
        print(error, file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0 if not result.get("failed") else 1


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    storage = root().retry_storage()
    if args.command == "list":
        listed = await list_dead_letters(storage.dead_letters, limit=args.limit, target=args.target)
        return listed | {"poisonQueue": await storage.poison.depth()}
    if args.command == "poison":
        moved = await storage.poison.requeue(limit=args.limit)
        return {"requeued": moved.requeued, "deadLettered": moved.dead_lettered}
    report = await replay(
        storage.dead_letters,
        storage.queue,
        names=args.names,
        replay_all=args.all,
        target=args.target,
        now=datetime.now(UTC),
    )
    return report.as_json()


if __name__ == "__main__":
    raise SystemExit(main())
