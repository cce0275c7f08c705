"""Content-Type checks for JSON webhooks: refuse only what is plainly not JSON (415).

Senders are sloppy about Content-Type (Kibana's connector sets none, Wallarm's is not
documented), so a missing one is fine and the body decides. A declared type that cannot
be JSON text (a form, XML, an image) is refused, after authentication, with a 415.
"""

from __future__ import annotations

from collections.abc import Mapping

from shared.errors import UnsupportedMediaType

JSON_TYPES = frozenset(
    {
        "application/json",
        "text/json",
        "application/x-ndjson",
        "application/ndjson",
        "application/jsonl",
        "application/x-jsonlines",
        "application/json-seq",
    }
)
# Types that say nothing about the text: the body decides.
GENERIC_TYPES = frozenset({"text/plain", "application/octet-stream"})


def media_type(headers: Mapping[str, str]) -> str | None:
    """The declared media type, lower case, without parameters; None when not declared."""
    value = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return value or None


def check_json_media(headers: Mapping[str, str], *, also: frozenset[str] = frozenset()) -> None:
    """Refuse a declared Content-Type that cannot be JSON text.

    Args:
        headers: the request headers (lower-case names).
        also: further types a sender is known to declare for JSON bodies.

    Raises:
        UnsupportedMediaType: the type is declared and is neither JSON, generic, nor in ``also``.
    """
    declared = media_type(headers)
    if declared is None or declared.endswith("+json"):
        return
    if declared in JSON_TYPES or declared in GENERIC_TYPES or declared in also:
        return
    raise UnsupportedMediaType("This endpoint takes JSON; the declared Content-Type is not JSON.")
