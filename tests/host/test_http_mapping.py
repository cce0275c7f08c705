"""HttpResponse to aiohttp reply, without a server: the headers the client sees."""

from __future__ import annotations

from typing import Any

import azure.functions as func
import pytest

from local.host.http_trigger import _to_aiohttp


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({}, [("Content-Type", "text/plain; charset=utf-8")]),
        ({"mimetype": "application/json"}, [("Content-Type", "application/json")]),
        (
            {"mimetype": "text/html", "charset": "latin-1"},
            [("Content-Type", "text/html; charset=latin-1")],
        ),
        (
            {"mimetype": "text/plain; charset=utf-8"},
            [("Content-Type", "text/plain; charset=utf-8; charset=utf-8")],
        ),
        (
            {"headers": {"X-A": "1"}},
            [("X-A", "1"), ("Content-Type", "text/plain; charset=utf-8")],
        ),
        ({"headers": {"content-type": "a/b"}}, [("content-type", "a/b")]),
    ],
)
def test_content_type_follows_the_worker(
    arguments: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    """text/* carries the charset, others do not; the function's own headers win."""
    reply = _to_aiohttp(func.HttpResponse("body", status_code=201, **arguments))
    assert (reply.status, reply.body, list(reply.headers.items())) == (201, b"body", expected)
