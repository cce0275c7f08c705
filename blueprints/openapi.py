"""``GET /api/openapi.json``: what every inbound endpoint takes and answers (anonymous).

The document is ``shared/openapi.json``, kept in step with the code by
``tests/unit/test_openapi.py``; it holds no secret, so SaaS admins and tools can read it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import azure.functions as func

blueprint = func.Blueprint()  # type: ignore[no-untyped-call]  # untyped in azure-functions

DOCUMENT = Path(__file__).resolve().parent.parent / "shared" / "openapi.json"


@cache
def _document() -> bytes:
    return DOCUMENT.read_bytes()


@blueprint.function_name("openapi")
@blueprint.route(route="openapi.json", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def openapi(req: func.HttpRequest) -> func.HttpResponse:
    """The OpenAPI document of the inbound endpoints."""
    return func.HttpResponse(_document(), mimetype="application/json", charset="utf-8")
