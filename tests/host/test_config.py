"""Settings, host.json options and the keys file, read the way the host reads them."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from local.host.config import (
    POLLING_OVERRIDE_ENV,
    ConfigError,
    load_host_options,
    load_or_create_keys,
    load_settings,
    parse_timespan,
)
from local.host.loader import AppLoadError, connection_string, resolve_app_setting


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("00:00:00", 0.0), ("00:00:30", 30.0), ("01:02:03", 3723.0), ("1.00:00:01.5", 86401.5)],
)
def test_timespans(text: str, seconds: float) -> None:
    """.NET TimeSpan strings become seconds."""
    assert parse_timespan(text) == seconds


@pytest.mark.parametrize("text", ["30", "00:30", "soon", ""])
def test_bad_timespans(text: str) -> None:
    """Anything else is a ConfigError."""
    with pytest.raises(ConfigError):
        parse_timespan(text)


def test_settings_fill_the_environment_without_overriding_it(tmp_path: Path) -> None:
    """Values missing from the environment are added; values already set are kept."""
    path = tmp_path / "local.settings.json"
    path.write_text(json.dumps({"IsEncrypted": False, "Values": {"A": "from-file", "B": 2}}))
    environ = {"A": "from-env"}
    assert load_settings(path, environ) == 1
    assert environ == {"A": "from-env", "B": "2"}


def test_a_missing_settings_file_is_not_an_error(tmp_path: Path) -> None:
    """The host runs on the environment alone when the file is absent."""
    environ: dict[str, str] = {}
    assert load_settings(tmp_path / "absent.json", environ) == 0
    assert environ == {}


def test_host_json_queue_options(tmp_path: Path) -> None:
    """host.json values are read; the polling override env var wins over maxPollingInterval."""
    path = tmp_path / "host.json"
    queues = {
        "batchSize": 4,
        "maxDequeueCount": 2,
        "visibilityTimeout": "00:00:10",
        "maxPollingInterval": "00:00:05",
        "messageEncoding": "none",
    }
    path.write_text(json.dumps({"extensions": {"http": {"routePrefix": ""}, "queues": queues}}))
    options = load_host_options(path, environ={})
    assert options.route_prefix == ""
    assert (options.queues.batch_size, options.queues.max_dequeue_count) == (4, 2)
    assert options.queues.visibility_timeout == 10.0
    assert options.queues.max_polling_interval == 5.0
    assert options.queues.message_encoding == "none"
    assert load_host_options(path, {POLLING_OVERRIDE_ENV: "0.3"}).queues.max_polling_interval == 0.3


def test_host_json_defaults_match_the_storage_extension() -> None:
    """Without host.json: api, batch 16, 5 dequeues, redelivery at once, 1 minute, base64."""
    queues = load_host_options(None, environ={}).queues
    assert load_host_options(None, environ={}).route_prefix == "api"
    assert (queues.batch_size, queues.max_dequeue_count, queues.visibility_timeout) == (16, 5, 0.0)
    assert (queues.max_polling_interval, queues.message_encoding) == (60.0, "base64")


def test_an_out_of_range_batch_size_is_refused(tmp_path: Path) -> None:
    """batchSize is 1-32 in the real extension."""
    path = tmp_path / "host.json"
    path.write_text(json.dumps({"extensions": {"queues": {"batchSize": 64}}}))
    with pytest.raises(ConfigError, match="batchSize"):
        load_host_options(path, environ={})


def test_keys_are_created_private_and_then_reused(tmp_path: Path) -> None:
    """A missing keys file is created (owner-only) with random keys; later loads read it."""
    path = tmp_path / "nested" / "keys.json"
    first = load_or_create_keys(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.master_key
    assert first.function_keys["default"]
    assert first.master_key != first.function_keys["default"]
    assert load_or_create_keys(path) == first
    assert first.master_key not in repr(first)


def test_a_keys_file_without_master_key_is_refused(tmp_path: Path) -> None:
    """A keys file must name a master key."""
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"functionKeys": {"default": "abc"}}))
    with pytest.raises(ConfigError, match="masterKey"):
        load_or_create_keys(path)


def test_app_setting_expressions_resolve_from_the_environment() -> None:
    """%NAME% resolves from the settings; plain values pass through; unset names fail."""
    assert resolve_app_setting("%SCHEDULE%", {"SCHEDULE": "0 * * * * *"}) == "0 * * * * *"
    assert resolve_app_setting("0 * * * * *", {}) == "0 * * * * *"
    with pytest.raises(AppLoadError, match="SCHEDULE"):
        resolve_app_setting("%SCHEDULE%", {})


def test_connections_default_to_azure_web_jobs_storage() -> None:
    """A binding without a connection uses AzureWebJobsStorage; a missing one fails clearly."""
    assert connection_string(None, {"AzureWebJobsStorage": "conn"}) == "conn"
    assert connection_string("Other", {"Other": "other-conn"}) == "other-conn"
    with pytest.raises(AppLoadError, match="Other"):
        connection_string("Other", {})


def test_app_settings_override_host_json_as_the_real_host_reads_them(tmp_path: Path) -> None:
    """AzureFunctionsJobHost__extensions__queues__batchSize overrides host.json's value,
    keys matched without regard to case; a missing section is created."""
    path = tmp_path / "host.json"
    path.write_text(json.dumps({"extensions": {"queues": {"batchSize": 16}}}))
    overrides = {
        "AzureFunctionsJobHost__Extensions__Queues__BatchSize": "2",
        "AzureFunctionsJobHost__extensions__http__routePrefix": "bridge",
    }
    options = load_host_options(path, overrides)
    assert (options.queues.batch_size, options.route_prefix) == (2, "bridge")
    assert load_host_options(path, environ={}).queues.batch_size == 16
