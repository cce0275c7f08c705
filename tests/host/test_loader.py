"""Indexing a FunctionApp: what the host serves, and what it refuses up front."""

from __future__ import annotations

import azure.functions as func
import pytest

from local.host.loader import AppLoadError, import_app, index_functions


def test_triggers_are_read_with_plain_values() -> None:
    """Each function's trigger is a plain dict (no enums) with the app's default auth level."""
    app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)

    @app.route(route="a/{x}", methods=["GET", "POST"])
    async def a(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("a")

    @app.timer_trigger(arg_name="t", schedule="0 * * * * *", run_on_startup=True)
    def t(t: func.TimerRequest) -> None:
        return None

    loaded = {function.name: function for function in index_functions(app)}
    assert loaded["a"].trigger["methods"] == ["GET", "POST"]
    assert loaded["a"].trigger["authLevel"] == "function"
    assert loaded["a"].is_async
    assert loaded["t"].trigger["runOnStartup"] is True
    assert not loaded["t"].is_async
    assert loaded["t"].arg_name == "t"


def test_bindings_the_host_cannot_serve_are_refused() -> None:
    """An output binding the host would silently drop stops startup instead."""
    app = func.FunctionApp()

    @app.route(route="out", auth_level=func.AuthLevel.ANONYMOUS)
    @app.queue_output(arg_name="out", queue_name="q", connection="AzureWebJobsStorage")
    def with_output(req: func.HttpRequest, out: func.Out[str]) -> func.HttpResponse:
        return func.HttpResponse("x")

    with pytest.raises(AppLoadError, match=r"with_output.*queue:out"):
        index_functions(app)


def test_a_context_parameter_is_refused() -> None:
    """The worker would fill ``context``; this host says so at startup instead of failing later."""
    app = func.FunctionApp()

    @app.route(route="ctx", auth_level=func.AuthLevel.ANONYMOUS)
    def with_context(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
        return func.HttpResponse("x")

    with pytest.raises(AppLoadError, match=r"with_context.*\['context'\]"):
        index_functions(app)


def test_import_app_names_what_is_wrong() -> None:
    """A missing module or an attribute that is not a FunctionApp is an AppLoadError."""
    with pytest.raises(AppLoadError, match="cannot import"):
        import_app("tests.host.no_such_module:app")
    with pytest.raises(AppLoadError, match=r"not an azure\.functions\.FunctionApp"):
        import_app("tests.host.support:call")
