"""Reading the answers of services called over azure-core's pipeline (ARM, Graph)."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime
from typing import Any

from azure.core.rest import HttpResponse

from shared.errors import UpstreamUnavailable


def json_object(response: HttpResponse, service: str) -> dict[str, Any]:
    """The answer's JSON object ({} for other JSON); ``UpstreamUnavailable`` naming
    ``service`` when the body is not JSON."""
    try:
        document = response.json()
    except ValueError:
        raise UpstreamUnavailable(
            f"{service} answered with a body that is not JSON",
            upstream_status=response.status_code,
        ) from None
    return document if isinstance(document, dict) else {}


def http_date(value: str | None) -> datetime | None:
    """An HTTP date (``Date``, ``Retry-After``) as aware UTC; None when absent or bad."""
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).astimezone(UTC)
    except (TypeError, ValueError):
        return None


def error_code(response: HttpResponse) -> str:
    """The ``error.code`` of an ARM- or Graph-style error body ("" when there is none)."""
    try:
        error = response.json().get("error", {})
    except (ValueError, AttributeError):
        return ""
    return str(error.get("code", "")) if isinstance(error, dict) else ""
