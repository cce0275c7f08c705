"""The host's inputs: app settings, host.json options and the function keys file."""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import tempfile
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

POLLING_OVERRIDE_ENV = "LOCAL_HOST_MAX_POLLING_INTERVAL_SECONDS"
HOST_JSON_OVERRIDE_PREFIX = "AzureFunctionsJobHost__"
"""App settings that override host.json values, as the real host reads them:
``AzureFunctionsJobHost__extensions__queues__batchSize=4`` sets that key ("Override
host.json values" in the Functions host.json reference)."""
_TIMESPAN = re.compile(r"(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d+))?")


class ConfigError(ValueError):
    """A settings, host.json or keys file the host cannot use."""


def parse_timespan(text: str) -> float:
    """Seconds in a .NET TimeSpan string such as ``"00:00:30"`` or ``"1.02:00:00.5"``."""
    found = _TIMESPAN.fullmatch(text.strip())
    if found is None:
        raise ConfigError(f"{text!r} is not a TimeSpan like 00:00:30")
    days, hours, minutes, seconds, fraction = found.groups()
    total = int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + int(seconds)
    return total + (float(f"0.{fraction}") if fraction else 0.0)


def load_settings(path: Path | None, environ: MutableMapping[str, str]) -> int:
    """Copy a local.settings.json's ``Values`` into ``environ``, keeping what is already set.

    The real host exposes app settings as environment variables; variables set before
    the host starts win here so tests can pass their own.

    Args:
        path: A local.settings.json-format file, or None for none. A missing file is
            logged and skipped.
        environ: Usually ``os.environ``.

    Returns:
        How many values were copied.
    """
    if path is None:
        return 0
    if not path.exists():
        logger.info("No settings file at %s; using the environment only", path)
        return 0
    document = _read_json(path)
    values = document.get("Values", {})
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: Values must be an object")
    copied = 0
    for name, value in values.items():
        if name not in environ:
            environ[name] = str(value)
            copied += 1
    logger.info(
        "Loaded %d app settings from %s (%d already set)", copied, path, len(values) - copied
    )
    return copied


@dataclass(frozen=True)
class QueueOptions:
    """host.json ``extensions.queues``, with the Storage extension's defaults."""

    batch_size: int = 16
    new_batch_threshold: int = 8
    max_dequeue_count: int = 5
    visibility_timeout: float = 0.0
    max_polling_interval: float = 60.0
    message_encoding: str = "base64"


@dataclass(frozen=True)
class HostOptions:
    """The parts of host.json this host honours."""

    route_prefix: str = "api"
    queues: QueueOptions = field(default_factory=QueueOptions)


def load_host_options(path: Path | None, environ: Mapping[str, str] = os.environ) -> HostOptions:
    """Read host.json; defaults where it or a setting is absent.

    ``LOCAL_HOST_MAX_POLLING_INTERVAL_SECONDS`` in ``environ`` overrides
    ``maxPollingInterval`` so tests need not wait for the one-minute default.
    """
    document = _read_json(path) if path is not None and path.exists() else {}
    _apply_overrides(document, environ)
    extensions = document.get("extensions", {})
    http = extensions.get("http", {})
    queues = extensions.get("queues", {})
    batch_size = int(queues.get("batchSize", 16))
    if not 1 <= batch_size <= 32:
        raise ConfigError(f"extensions.queues.batchSize {batch_size} is outside 1-32")
    # The real default is batchSize/2 per vCPU.
    default_threshold = batch_size // 2 * (os.cpu_count() or 1)
    polling = parse_timespan(str(queues.get("maxPollingInterval", "00:01:00")))
    override = environ.get(POLLING_OVERRIDE_ENV)
    if override:
        polling = float(override)
    encoding = str(queues.get("messageEncoding", "base64")).lower()
    if encoding not in {"base64", "none"}:
        raise ConfigError(f"extensions.queues.messageEncoding {encoding!r} is not base64 or none")
    return HostOptions(
        route_prefix=str(http.get("routePrefix", "api")).strip("/"),
        queues=QueueOptions(
            batch_size=batch_size,
            new_batch_threshold=int(queues.get("newBatchThreshold", default_threshold)),
            max_dequeue_count=int(queues.get("maxDequeueCount", 5)),
            visibility_timeout=parse_timespan(str(queues.get("visibilityTimeout", "00:00:00"))),
            max_polling_interval=max(polling, 0.1),
            message_encoding=encoding,
        ),
    )


@dataclass(frozen=True)
class FunctionKeys:
    """The master key and the host-wide function keys."""

    master_key: str
    function_keys: Mapping[str, str]

    def __repr__(self) -> str:
        return f"FunctionKeys(<SECRET>, names={sorted(self.function_keys)})"


def load_or_create_keys(path: Path) -> FunctionKeys:
    """Read the keys file, or create it with random keys (mode 0600) if absent.

    The file holds ``{"masterKey": "...", "functionKeys": {"default": "..."}}``.
    """
    if not path.exists():
        _create_keys_file(path)
    document = _read_json(path)
    master_key = document.get("masterKey")
    function_keys = document.get("functionKeys", {})
    if not isinstance(master_key, str) or not master_key:
        raise ConfigError(f"{path}: masterKey must be a non-empty string")
    if not isinstance(function_keys, dict) or not all(
        isinstance(value, str) and value for value in function_keys.values()
    ):
        raise ConfigError(f"{path}: functionKeys must map names to non-empty strings")
    return FunctionKeys(master_key, dict(function_keys))


def _create_keys_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "masterKey": secrets.token_urlsafe(32),
        "functionKeys": {"default": secrets.token_urlsafe(32)},
    }
    # Written aside and linked into place, so concurrent hosts never read half a file and
    # the first writer wins.
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as temp:
        json.dump(document, temp, indent=2)
    temp_path = Path(temp.name)
    temp_path.chmod(0o600)
    try:
        os.link(temp_path, path)
        logger.info("Created function keys in %s", path)
    except FileExistsError:
        pass
    finally:
        temp_path.unlink()


def _apply_overrides(document: dict[str, Any], environ: Mapping[str, str]) -> None:
    """Set each ``AzureFunctionsJobHost__a__b`` setting's value at ``document["a"]["b"]``
    (keys matched case-insensitively, as the host's configuration does)."""
    for name, value in environ.items():
        if not name.startswith(HOST_JSON_OVERRIDE_PREFIX):
            continue
        *parents, leaf = name[len(HOST_JSON_OVERRIDE_PREFIX) :].split("__")
        node = document
        for part in parents:
            key = next((k for k in node if k.lower() == part.lower()), part)
            child = node.get(key)
            if not isinstance(child, dict):
                child = node[key] = {}
            node = child
        node[next((k for k in node if k.lower() == leaf.lower()), leaf)] = value


def _read_json(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, json.JSONDecodeError) as error:
        raise ConfigError(f"cannot read {path}: {error}") from error
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    return document
