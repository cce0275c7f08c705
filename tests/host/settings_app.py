"""A one-route app that shows which app settings the host exposed as environment variables."""

from __future__ import annotations

import os

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="env/{name}", methods=["GET"])
def env(req: func.HttpRequest) -> func.HttpResponse:
    """The value of one setting, or <unset>."""
    return func.HttpResponse(os.environ.get(req.route_params["name"], "<unset>"))
