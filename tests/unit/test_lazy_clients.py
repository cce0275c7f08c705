"""The clients' storage side is built on first use, once, and warmed off the request path."""

from __future__ import annotations

import threading

import pytest

from shared.bootstrap.clients import Lazy


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
