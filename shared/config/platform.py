"""What the Functions platform tells the app about itself, from the same settings mapping."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_BRIDGE_NAME = "sentinel-bridge"


@dataclass(frozen=True)
class Platform:
    """The app's name (rows and webhooks carry it), its instance, and a CA bundle to trust.

    ``REQUESTS_CA_BUNDLE`` is the variable azure-core's requests transport honours itself;
    the destinations' poster trusts the same bundle, so there is no test-only TLS switch.
    """

    site_name: str
    instance_id: str
    ca_bundle: str | None

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Platform:
        """Read ``WEBSITE_SITE_NAME``, ``WEBSITE_INSTANCE_ID`` and ``REQUESTS_CA_BUNDLE``."""
        instance = re.sub(r"[^A-Za-z0-9]", "", environ.get("WEBSITE_INSTANCE_ID", ""))[:12]
        return cls(
            site_name=environ.get("WEBSITE_SITE_NAME", "").strip() or DEFAULT_BRIDGE_NAME,
            instance_id=instance,
            ca_bundle=environ.get("REQUESTS_CA_BUNDLE", "").strip() or None,
        )
