"""One POST to one destination, built from a queued payload: URL, body, signature.

An incident delivery's payload (the envelope's ``payload``) is::

    {"incident": "<name>", "version": "<lastModifiedTimeUtc>", "label": "<tag>",
     "webhookId": "msg_..." (webhooks only), "body": {...}}

- ``signl4:SIGNL4``: ``body`` as JSON to ``SIGNL4_WEBHOOK_BASE`` + the team secret (Key
  Vault ``SIGNL4_TEAM_SECRET_NAME``). The URL is never logged.
- ``webhook:<name>``: ``body`` as JSON, signed per Standard Webhooks with every secret in
  the destination's Key Vault secret (whitespace-separated, newest first, so a rotation
  sends both signatures until receivers have the new one); ``webhook-timestamp`` is the
  time of this attempt, ``webhook-id`` the payload's (stable per incident version).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import quote

from shared.adapters.destinations import Answer
from shared.auth.common import read_secrets
from shared.auth.standard_webhooks import decode_secret, sign
from shared.config.incidents import SIGNL4, IncidentSettings
from shared.errors import ConfigError, EnvelopeError
from shared.incidents.ports import Poster
from shared.ports import SecretStore

SIGNL4_KIND = "signl4"
WEBHOOK_KIND = "webhook"


def target_of(destination: str) -> str:
    """The retry target of a destination name (``SIGNL4`` or a webhook's name)."""
    kind = SIGNL4_KIND if destination == SIGNL4 else WEBHOOK_KIND
    return f"{kind}:{destination}"


def destination_of(target: str) -> str:
    """The destination name of a retry target."""
    return target.partition(":")[2]


def body_bytes(payload: dict[str, Any]) -> bytes:
    """The payload's ``body`` as compact UTF-8 JSON (what is signed and sent).

    Raises:
        EnvelopeError: the payload has no ``body`` object.
    """
    body = payload.get("body")
    if not isinstance(body, dict):
        raise EnvelopeError("an incident delivery carries a body object")
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


async def send(
    target: str,
    payload: dict[str, Any],
    *,
    settings: IncidentSettings,
    secrets: SecretStore,
    poster: Poster,
    now: datetime,
) -> Answer:
    """POST one incident delivery to its destination; the answer, whatever its status.

    Raises:
        EnvelopeError: an unknown target or a malformed payload (permanent).
        SecretMissing: the destination's secret is not in Key Vault.
        ConfigError: a webhook secret is not ``whsec_<base64>``, or the destination is
            no longer configured.
        UpstreamUnavailable: no answer, or Key Vault unreachable.
    """
    kind, _, name = target.partition(":")
    body = body_bytes(payload)
    if kind == SIGNL4_KIND:
        team = await secrets.get(settings.signl4_team_secret_name)
        url = settings.signl4_webhook_base + quote(team.strip(), safe="")
        return await poster.post(url, body, {})
    if kind != WEBHOOK_KIND:
        raise EnvelopeError(f"not an incident destination: {kind}")
    destination = settings.webhook(name)
    if destination is None:
        raise ConfigError([f"WEBHOOK_DESTINATIONS no longer lists {name}"])
    msg_id = payload.get("webhookId")
    if not isinstance(msg_id, str) or not msg_id:
        raise EnvelopeError("a webhook delivery carries its webhookId")
    values = await read_secrets(secrets, [destination.secret_name])
    keys = [decode_secret(part) for value in values for part in value.split()]
    timestamp = int(now.timestamp())
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(key, msg_id, timestamp, body) for key in keys),
    }
    return await poster.post(destination.url, body, headers)
