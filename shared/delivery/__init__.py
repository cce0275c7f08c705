"""The pure delivery core: fitting rows, packing them, retry timing and queue messages.

No Azure SDK, no I/O, no settings, no clock and no randomness of its own: callers pass
the time and a ``random.Random``. The adapters send what this package builds.

- :mod:`~shared.delivery.fields`: cut fields over the service's 64 KB limit, and flag it.
- :mod:`~shared.delivery.packer`: gzip bodies filled up to the request limit *after*
  compression; :mod:`~shared.delivery.baseline` reproduces the SDK's chunking to compare.
- :mod:`~shared.delivery.backoff`: exponential backoff with full jitter.
- :mod:`~shared.delivery.policy`: transient or permanent, and the retry budget.
- :mod:`~shared.delivery.envelope`: the retry queue's messages.
"""

from __future__ import annotations

from shared.delivery.backoff import (
    MAX_VISIBILITY_TIMEOUT_SECONDS,
    backoff_ceiling,
    backoff_delay,
)
from shared.delivery.baseline import sdk_default_chunks, sdk_default_stats
from shared.delivery.envelope import (
    MAX_QUEUE_TEXT_BYTES,
    BlobPointer,
    Envelope,
    decode_message,
    fits_in_queue_message,
    short_error,
)
from shared.delivery.fields import DEFAULT_MAX_FIELD_BYTES, fit_row, fit_row_encoded, truncate_utf8
from shared.delivery.packer import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_DECOMPRESSED_BYTES,
    SERVICE_MAX_BODY_BYTES,
    OversizedRow,
    PackedBody,
    PackResult,
    Stats,
    pack,
    pack_encoded,
)
from shared.delivery.policy import DEFAULT_RETRY_BUDGET, Outcome, budget_exhausted, classify
from shared.errors import EnvelopeError

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_DECOMPRESSED_BYTES",
    "DEFAULT_MAX_FIELD_BYTES",
    "DEFAULT_RETRY_BUDGET",
    "MAX_QUEUE_TEXT_BYTES",
    "MAX_VISIBILITY_TIMEOUT_SECONDS",
    "SERVICE_MAX_BODY_BYTES",
    "BlobPointer",
    "Envelope",
    "EnvelopeError",
    "Outcome",
    "OversizedRow",
    "PackResult",
    "PackedBody",
    "Stats",
    "backoff_ceiling",
    "backoff_delay",
    "budget_exhausted",
    "classify",
    "decode_message",
    "fit_row",
    "fit_row_encoded",
    "fits_in_queue_message",
    "pack",
    "pack_encoded",
    "sdk_default_chunks",
    "sdk_default_stats",
    "short_error",
    "truncate_utf8",
]
