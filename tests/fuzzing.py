"""What the in-process fuzz tests share: the methods they try and the request they build."""

from __future__ import annotations

from collections.abc import Mapping

import azure.functions as func
from hypothesis import strategies as st

METHODS = st.sampled_from(["POST", "PUT", "GET", "PATCH", "DELETE"])


def generated_request(
    method: str, route: str, params: Mapping[str, str], headers: Mapping[str, str], body: bytes
) -> func.HttpRequest:
    """A real ``func.HttpRequest`` to ``/api/{route}`` as the host would hand it over."""
    return func.HttpRequest(
        method=method,
        url=f"http://localhost:7071/api/{route}",
        headers=dict(headers),
        params={},
        route_params=dict(params),
        body=body,
    )
