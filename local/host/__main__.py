"""``python -m local.host``: serve a v2-model FunctionApp like ``func start`` would."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from local.host.config import ConfigError
from local.host.invoke import configure_logging
from local.host.loader import AppLoadError
from local.host.server import HostConfig, serve

logger = logging.getLogger(__name__)


def parse_args(argv: list[str] | None = None) -> HostConfig:
    """The host configuration from the command line."""
    parser = argparse.ArgumentParser(prog="python -m local.host", description=__doc__)
    parser.add_argument("--app", default="function_app:app", help="module:attr of the app")
    parser.add_argument("--port", type=int, default=7071, help="HTTP port on 127.0.0.1")
    parser.add_argument(
        "--settings",
        default="local.settings.json",
        help="local.settings.json-format file ('' for none); the environment wins",
    )
    parser.add_argument("--keys", default=".local/function-keys.json", help="function keys file")
    parser.add_argument("--host-json", default="host.json", help="host.json ('' for defaults)")
    args = parser.parse_args(argv)
    return HostConfig(
        app_spec=args.app,
        port=args.port,
        settings_path=Path(args.settings) if args.settings else None,
        keys_path=Path(args.keys),
        host_json_path=Path(args.host_json) if args.host_json else None,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the host; 1 when the app or its configuration cannot be served."""
    config = parse_args(argv)
    configure_logging()
    # The app is imported from the working directory, as the real host does.
    sys.path.insert(0, str(Path.cwd()))
    try:
        asyncio.run(serve(config))
    except (AppLoadError, ConfigError, ValueError, OSError) as error:
        logger.error("Host cannot start: %s", error)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
