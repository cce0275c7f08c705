"""HTTP triggers through the local host over real HTTP: routing, auth, mapping, errors."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.host.conftest import SampleHost
from tests.host.support import call

pytestmark = pytest.mark.e2e


def test_status_endpoint_reports_running(sample_host: SampleHost) -> None:
    """/admin/host/status answers 200 Running without a key (the readiness probe)."""
    reply = call("GET", sample_host.host.url("/admin/host/status"))
    assert (reply.status, reply.json()) == (200, {"state": "Running"})


def test_status_endpoint_answers_head(sample_host: SampleHost) -> None:
    """HEAD on the status endpoint is 200 with no body, as for any GET route of aiohttp's."""
    reply = call("HEAD", sample_host.host.url("/admin/host/status"))
    assert (reply.status, reply.body) == (200, b"")


def test_route_parameters_and_query_reach_the_function(sample_host: SampleHost) -> None:
    """Route params, query params and the full URL are on the HttpRequest."""
    reply = call("GET", sample_host.host.url("/api/hello/World?lang=en&x=1"))
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/json"
    body = reply.json()
    assert body["name"] == "World"
    assert body["params"] == {"lang": "en", "x": "1"}
    assert body["url"].endswith("/api/hello/World?lang=en&x=1")


def test_routes_match_case_insensitively(sample_host: SampleHost) -> None:
    """Literal segments ignore case; parameter values keep theirs."""
    reply = call("GET", sample_host.host.url("/API/HELLO/MiXeD"))
    assert (reply.status, reply.json()["name"]) == (200, "MiXeD")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/nowhere"),
        ("GET", "/hello/World"),
        ("POST", "/api/hello/World"),
        ("HEAD", "/api/hello/World"),
        ("GET", "/api/echo"),
        ("GET", "/api/items/abc"),
        ("POST", "/admin/host/status"),
        ("GET", "/admin/host/status/"),
        ("GET", "/ADMIN/host/status"),
    ],
)
def test_unknown_routes_and_methods_are_404(
    sample_host: SampleHost, method: str, path: str
) -> None:
    """No function for the path (prefix, constraint) or for the method: 404, as the host does."""
    assert (
        call(method, sample_host.host.url(path), body=b"" if method == "POST" else None).status
        == 404
    )


def test_constrained_and_catch_all_routes(sample_host: SampleHost) -> None:
    """{id:int} takes integers; {*path} takes the rest of the path, slashes included."""
    assert call("GET", sample_host.host.url("/api/items/17")).body == b"item 17"
    assert call("GET", sample_host.host.url("/api/files/a/b/c.txt")).body == b"a/b/c.txt"


def test_body_and_response_mapping(sample_host: SampleHost) -> None:
    """Body bytes pass through untouched; status, headers and mimetype come back as set."""
    payload = bytes(range(256)) * 12_000  # 3 MB: past aiohttp's 1 MB default limit
    reply = call(
        "PUT",
        sample_host.host.url("/api/echo?status=202&mimetype=application/x-test"),
        body=payload,
    )
    assert reply.status == 202
    assert reply.body == payload
    assert reply.headers["X-Echo-Method"] == "PUT"
    assert reply.headers["X-Echo-Length"] == str(len(payload))
    assert reply.headers["Content-Type"] == "application/x-test"


def test_text_responses_carry_their_charset(sample_host: SampleHost) -> None:
    """The default mimetype is text/plain with the charset, like the worker sets it."""
    reply = call("GET", sample_host.host.url("/api/text"))
    assert reply.status == 201
    assert reply.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert reply.body.decode("utf-8") == "grüße"


def test_unhandled_exception_is_an_empty_500(sample_host: SampleHost) -> None:
    """A raising function gives 500 with no body; the traceback goes to the log only."""
    reply = call("POST", sample_host.host.url("/api/boom"), body=b"{}")
    assert (reply.status, reply.body) == (500, b"")
    assert "sample failure" in sample_host.host.logs()


def test_function_level_needs_a_key(sample_host: SampleHost) -> None:
    """FUNCTION level: empty 401 without or with a wrong key; 200 with a function or master key."""
    host = sample_host.host
    url = host.url("/api/secure")
    missing = call("GET", url)
    assert (missing.status, missing.body) == (401, b"")
    assert call("GET", url, headers={"x-functions-key": "wrong"}).status == 401
    assert call("GET", f"{url}?code=wrong").status == 401
    assert call("GET", url, headers={"x-functions-key": host.function_key}).status == 200
    assert call("GET", f"{url}?code={host.function_key}").status == 200
    assert call("GET", url, headers={"x-functions-key": host.master_key}).status == 200


def test_admin_level_needs_the_master_key(sample_host: SampleHost) -> None:
    """ADMIN level: a function key is not enough; the master key is."""
    host = sample_host.host
    url = host.url("/api/operator")
    assert call("GET", url, headers={"x-functions-key": host.function_key}).status == 401
    reply = call("GET", url, headers={"x-functions-key": host.master_key})
    assert (reply.status, reply.body) == (200, b"admin ok")


def test_function_listing_is_admin_only(sample_host: SampleHost) -> None:
    """/admin/functions lists every function, for the master key only."""
    host = sample_host.host
    url = host.url("/admin/functions")
    assert call("GET", url, headers={"x-functions-key": host.function_key}).status == 401
    listing = call("GET", url, headers={"x-functions-key": host.master_key}).json()
    triggers = {entry["name"]: entry["trigger"]["type"] for entry in listing}
    assert triggers["hello"] == "httpTrigger"
    assert triggers["tick"] == "timerTrigger"
    assert triggers["work"] == "queueTrigger"


def test_async_functions_share_the_event_loop(sample_host: SampleHost) -> None:
    """Concurrent requests to an async function run at the same time on one loop."""
    url = sample_host.host.url("/api/slow?seconds=1")
    with ThreadPoolExecutor(max_workers=4) as pool:
        replies = list(pool.map(lambda _: call("GET", url), range(4)))
    assert all(reply.status == 200 for reply in replies)
    assert max(reply.json()["max_in_flight"] for reply in replies) >= 2


def test_keys_never_reach_the_log(sample_host: SampleHost) -> None:
    """The host logs the keys file path, never the keys, even when a key is sent."""
    host = sample_host.host
    call("GET", host.url("/api/secure"), headers={"x-functions-key": host.function_key})
    call("GET", f"{host.url('/api/secure')}?code={host.master_key}")
    logs = host.logs()
    assert str(host.keys_path) in logs
    assert host.function_key not in logs
    assert host.master_key not in logs
