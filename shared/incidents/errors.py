"""The incident API's failures the services tell apart (raised by ``shared.adapters.sentinel``;
here so the services need not import the SDK)."""

from __future__ import annotations

from shared.errors import UpstreamUnavailable


class IncidentConflict(UpstreamUnavailable):
    """409: the etag sent is stale (someone wrote the incident since it was read)."""


class IncidentNotFound(UpstreamUnavailable):
    """404: no such incident."""
