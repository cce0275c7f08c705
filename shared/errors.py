"""The bridge's exceptions, and the one place they become HTTP statuses.

Every exception the bridge raises on purpose is in this tree::

    BridgeError
    ├── RequestRejected              the sender's fault: 4xx, never retried by us
    │   ├── Unauthorized             401  missing, malformed or wrong credentials
    │   ├── MalformedPayload         400  not JSON, not an object, wrong field types
    │   │   └── SchemaError          400  a value does not fit its table column
    │   ├── NotFound                 404  no such object (dead letter, destination)
    │   │   └── UnknownEventType     404  no such route, source or incident
    │   ├── MethodNotAllowed         405  the route exists; ``Allow`` names its methods
    │   ├── PayloadTooLarge          413  body over the configured limit
    │   └── UnsupportedMediaType     415  a content type that is plainly wrong
    ├── ConfigError                  503  settings missing or invalid (lists every problem)
    │   └── FeatureOff               503  one source or feature is misconfigured; the
    │                                     others work (``/api/health`` names it)
    ├── SecretMissing                503  Key Vault has no such secret (a source may treat
    │                                     this as "not enabled" and answer 404 instead)
    ├── UpstreamUnavailable          503  Key Vault, the token endpoint, ARM or ingestion
    │   │                                 did not answer usefully; retry later
    │   ├── IngestionFailed          503  the Logs Ingestion API did not accept some rows
    │   ├── IncidentFormatError      503  Sentinel answered with an incident not shaped
    │   │                                 like one
    │   ├── IncidentConflict         409 from ARM: a stale etag (re-read and merge)
    │   └── IncidentNotFound         404 from ARM: no such incident
    └── Undeliverable                     a delivery that can never succeed as it is:
        ├── EnvelopeError                 a queue message breaking the envelope rules
        └── DestinationRefused            a destination refused it for good
                                          (both dead-lettered, never retried)

``shared.delivery.policy`` alone decides which upstream failures are retried.
Messages never contain a secret, a hash or a whole payload: they are returned to
senders and written to logs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


class BridgeError(Exception):
    """Base of every error the bridge raises on purpose."""

    status: int = 500
    code: str = "InternalError"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RequestRejected(BridgeError):
    """The request cannot be accepted as sent; retrying it unchanged will not help."""

    status = 400
    code = "BadRequest"


class Unauthorized(RequestRejected):
    """Credentials missing, malformed or wrong. The message never says which."""

    status = 401
    code = "Unauthorized"

    def __init__(self, message: str = "Missing or invalid credentials.") -> None:
        super().__init__(message)


class MalformedPayload(RequestRejected):
    """The body is not what the route takes."""

    status = 400
    code = "MalformedPayload"


class SchemaError(MalformedPayload):
    """A value does not fit its table column (wrong type, not finite, too deep)."""

    code = "SchemaError"


class NotFound(RequestRejected):
    """No such object."""

    status = 404
    code = "NotFound"


class UnknownEventType(NotFound):
    """The route names no event type, source or incident the bridge knows."""

    code = "UnknownEventType"


class MethodNotAllowed(RequestRejected):
    """The route exists but does not take this method."""

    status = 405
    code = "MethodNotAllowed"

    def __init__(self, allowed: frozenset[str]) -> None:
        super().__init__(f"This endpoint takes {', '.join(sorted(allowed))}.")
        self.allowed = allowed


class PayloadTooLarge(RequestRejected):
    """The body is over the configured limit."""

    status = 413
    code = "PayloadTooLarge"


class UnsupportedMediaType(RequestRejected):
    """The Content-Type is plainly not something the route can parse."""

    status = 415
    code = "UnsupportedMediaType"


class ConfigError(BridgeError):
    """One or more settings are missing or invalid; all of them are named at once."""

    status = 503
    code = "ConfigurationError"

    def __init__(self, problems: Sequence[str]) -> None:
        # Senders see only that the bridge is misconfigured; the operator sees which
        # settings in the log and at /api/health.
        super().__init__("The bridge's configuration is incomplete; its operator can see why.")
        self.problems = tuple(problems)

    def __str__(self) -> str:
        return "Invalid configuration: " + "; ".join(self.problems)


class FeatureOff(ConfigError):
    """One source or feature is misconfigured and off; the rest of the bridge works."""

    code = "FeatureNotConfigured"

    def __init__(self, feature: str, problems: Sequence[str]) -> None:
        super().__init__(problems)
        self.message = f"{feature} is not configured correctly; its operator can see why."
        self.args = (self.message,)
        self.feature = feature


class SecretMissing(BridgeError):
    """Key Vault answered that the named secret does not exist (or is disabled)."""

    status = 503
    code = "NotConfigured"

    def __init__(self, name: str) -> None:
        super().__init__("The bridge is not configured for this request yet.")
        self.secret_name = name


class UpstreamUnavailable(BridgeError):
    """A dependency (Key Vault, identity, ingestion) failed in a way worth retrying."""

    status = 503
    code = "UpstreamUnavailable"

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        upstream_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.upstream_status = upstream_status


class IncidentFormatError(UpstreamUnavailable):
    """Sentinel answered with something not shaped like an incident (or a field of one)."""

    code = "UpstreamUnavailable"


class IncidentConflict(UpstreamUnavailable):
    """ARM answered 409: the etag sent is stale (someone wrote the incident since)."""


class IncidentNotFound(UpstreamUnavailable):
    """ARM answered 404: no such incident."""


class Undeliverable(BridgeError):
    """A delivery that can never succeed as it is: kept as a dead letter, never retried."""

    code = "Undeliverable"


class EnvelopeError(Undeliverable):
    """A queue message or envelope breaks the envelope rules (unknown field, wrong type)."""

    code = "EnvelopeError"


class DestinationRefused(Undeliverable):
    """A destination refused a delivery for good (policy: permanent), or is disabled."""

    code = "DestinationRefused"


@dataclass(frozen=True)
class Refused:
    """Rows one request did not deliver: their positions in the batch, and why.

    ``permanent`` is true when resending the same rows cannot succeed (400, 404, 413, a
    row too large for any request); such rows belong in a dead letter, not a retry.
    """

    indices: tuple[int, ...]
    status: int | None
    retry_after: float | None
    reason: str
    permanent: bool
    rows: tuple[dict[str, Any], ...] = ()


class IngestionFailed(UpstreamUnavailable):
    """The Logs Ingestion API did not accept some rows; ``refused`` says which and why."""

    code = "IngestionFailed"

    def __init__(
        self,
        message: str,
        *,
        refused: Sequence[Refused],
        status: int | None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, retry_after=retry_after, upstream_status=status)
        self.refused = list(refused)

    @property
    def failed_rows(self) -> list[dict[str, Any]]:
        """Every row not accepted, in batch order."""
        return [row for refused in self.refused for row in refused.rows]

    @property
    def permanent(self) -> bool:
        """True when no refused row can succeed by being sent again."""
        return all(refused.permanent for refused in self.refused)


DEFAULT_RETRY_AFTER_SECONDS = 30


def error_body(error: BridgeError) -> dict[str, Any]:
    """The JSON body every error response carries: ``{"error": {"code", "message"}}``."""
    return {"error": {"code": error.code, "message": error.message}}


def retry_after_seconds(error: BridgeError) -> int | None:
    """The ``Retry-After`` to send with a 503, or None for errors that are not retryable."""
    if isinstance(error, UpstreamUnavailable):
        if error.retry_after is not None:
            return max(1, round(error.retry_after))
        return DEFAULT_RETRY_AFTER_SECONDS
    if isinstance(error, ConfigError | SecretMissing):
        return DEFAULT_RETRY_AFTER_SECONDS
    return None
