"""The clients' storage side is built on first use, once, and warmed off the request path."""

from __future__ import annotations

import logging
import threading

import pytest

from shared.bootstrap.clients import (
    SDK_REQUEST_LOGGER,
    Lazy,
    environment_read_once,
    quiet_sdk_request_logs,
)


def test_built_once_on_first_use() -> None:
    """Nothing is built until asked; then once, whoever asks."""
    calls: list[int] = []

    def build() -> int:
        calls.append(1)
        return len(calls)

    lazy = Lazy(build)
    assert (lazy.ready, calls) == (False, [])
    assert lazy.get() == 1
    assert lazy.get() == 1
    assert lazy.ready
    assert calls == [1]


def test_a_failed_build_is_tried_again() -> None:
    """A build that raises leaves nothing behind; the next use builds again."""
    attempts: list[int] = []

    def build() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("storage not reachable yet")
        return "built"

    lazy = Lazy(build)
    with pytest.raises(OSError, match="not reachable"):
        lazy.get()
    assert not lazy.ready
    assert lazy.get() == "built"


def test_many_threads_share_one_build() -> None:
    """Eight threads asking at once get the same value from one build."""
    started = threading.Event()
    calls: list[int] = []

    def build() -> object:
        started.wait(2)
        calls.append(1)
        return object()

    lazy: Lazy[object] = Lazy(build)
    values: list[object] = []
    threads = [threading.Thread(target=lambda: values.append(lazy.get())) for _ in range(8)]
    for thread in threads:
        thread.start()
    started.set()
    for thread in threads:
        thread.join(5)
    assert len(calls) == 1
    assert len(values) == 8
    assert all(v is values[0] for v in values)


def test_warm_builds_in_a_thread_then_calls_back_once() -> None:
    """warm() returns at once; the value is built in a thread, then ``then`` runs."""
    release = threading.Event()
    done = threading.Event()
    lazy = Lazy(lambda: release.wait(2) and "built")
    lazy.warm(done.set)
    lazy.warm(lambda: pytest.fail("a second warm-up while one runs"))
    assert not lazy.ready
    release.set()
    assert done.wait(5)
    assert lazy.get() == "built"


ENDPOINT = "https://dce.example.ingest.monitor.azure.com"


def test_proxy_and_ca_bundle_are_read_once_into_the_transport_options(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What requests would read per request is read at build time instead."""
    for name in ("HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("https_proxy", "http://proxy.example:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/bundle.pem")
    assert environment_read_once(ENDPOINT) == {
        "use_env_settings": False,
        "proxies": {"https": "http://proxy.example:3128"},
        "connection_verify": "/etc/ssl/bundle.pem",
    }


def test_no_proxy_for_the_endpoint_means_no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """NO_PROXY is applied to the endpoint once; without a bundle, verification stays on."""
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("https_proxy", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", ".monitor.azure.com")
    monkeypatch.setenv("no_proxy", ".monitor.azure.com")
    assert environment_read_once(ENDPOINT) == {"use_env_settings": False}


def test_the_sdks_request_lines_stay_out_of_info_unless_the_operator_set_a_level() -> None:
    """azure-core's per-request INFO line is raised to WARNING; an explicit level stays."""
    sdk_requests = logging.getLogger(SDK_REQUEST_LOGGER)
    before = sdk_requests.level
    try:
        sdk_requests.setLevel(logging.NOTSET)
        quiet_sdk_request_logs()
        assert sdk_requests.level == logging.WARNING
        sdk_requests.setLevel(logging.DEBUG)
        quiet_sdk_request_logs()
        assert sdk_requests.level == logging.DEBUG
    finally:
        sdk_requests.setLevel(before)
