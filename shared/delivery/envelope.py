"""The retry queue's message: what to deliver, where, and how it has gone so far.

An :class:`Envelope` carries either Sentinel ``rows`` or one ``payload`` (for targets such
as ``signl4:<name>`` or ``webhook:<name>``), never both. Its text form is compact JSON
with a version, ``{"v": 1, "kind": "envelope", ...}``; a :class:`BlobPointer`
(``"kind": "pointer"``) stands in for an envelope too large for a queue message, whose
text the queue adapter then keeps in blob storage.

Decoding is strict and never crashes the worker: anything malformed, from bad JSON to an
unknown field or a wrong type, raises :class:`EnvelopeError`, which the worker turns into
a dead letter instead of a poison-message loop.

Queue size arithmetic: a queue message may be 64 KiB = 65,536 bytes *as sent*, and the
Functions host expects base64, which writes 4 characters for every 3 bytes. So the text
may be at most 65,536 / 4 * 3 = 49,152 bytes of UTF-8 (base64 of 49,152 bytes is exactly
65,536 characters, with no padding); :func:`fits_in_queue_message` checks that.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.delivery._json import compact_json
from shared.errors import EnvelopeError

VERSION = 1
MAX_QUEUE_MESSAGE_BYTES = 65_536
"""A queue message's size limit, as sent (base64 text)."""
MAX_QUEUE_TEXT_BYTES = MAX_QUEUE_MESSAGE_BYTES // 4 * 3
"""49,152: the most UTF-8 bytes whose base64 fits ``MAX_QUEUE_MESSAGE_BYTES``."""
MAX_ERROR_CHARS = 300

_TARGET = re.compile(r"[a-z][a-z0-9]*:[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
_SOURCE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
# Azure container names: 3-63 of lower-case letters, digits and single hyphens.
_CONTAINER = re.compile(r"(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_ENVELOPE_KEYS = frozenset(
    {"v", "kind", "id", "target", "source", "rows", "payload", "attempt", "first_seen"}
    | {"last_error", "last_status"}
)
_POINTER_KEYS = frozenset({"v", "kind", "container", "blob", "envelope_id", "target"})


def short_error(text: str) -> str:
    """``text`` on one line, at most ``MAX_ERROR_CHARS`` long, for ``last_error``.

    It only shapes the text: callers pass an error's class and status, never a response
    body, a payload or anything holding a secret.
    """
    flat = _CONTROL.sub(" ", text).strip()
    return flat if len(flat) <= MAX_ERROR_CHARS else flat[: MAX_ERROR_CHARS - 1] + "…"


@dataclass(frozen=True, kw_only=True)
class Envelope:
    """One delivery waiting for another attempt.

    Attributes:
        id: the delivery's UUID, fixed when it was first seen and kept on every retry.
        target: ``<kind>:<name>``, e.g. ``sentinel:Custom-FigEvents``.
        source: the SaaS source, e.g. ``fig``.
        rows: the rows for a Sentinel stream, or None when ``payload`` is set.
        payload: one JSON object for other targets, or None when ``rows`` is set.
        attempt: how many retries were made (0 when first queued).
        first_seen: when the bridge first received the delivery (aware, UTC).
        last_error: a short description of the last failure (see :func:`short_error`).
        last_status: the last failure's HTTP status; None for transport errors.

    Raises:
        EnvelopeError: on construction, when a field breaks the rules above.
    """

    id: str
    target: str
    source: str
    first_seen: datetime
    rows: list[dict[str, Any]] | None = None
    payload: dict[str, Any] | None = None
    attempt: int = 0
    last_error: str | None = None
    last_status: int | None = None

    def __post_init__(self) -> None:
        _check_uuid(self.id, "id")
        _check(_TARGET.fullmatch(_text(self.target, "target")), "target is not <kind>:<name>")
        _check(_SOURCE.fullmatch(_text(self.source, "source")), "source is not a source name")
        _check((self.rows is None) != (self.payload is None), "need rows or payload, not both")
        if self.rows is not None:
            _check(isinstance(self.rows, list), "rows must be a list")
            _check(all(isinstance(r, dict) for r in self.rows), "rows must be objects")
        if self.payload is not None:
            _check(isinstance(self.payload, dict), "payload must be an object")
        _check(_is_int(self.attempt) and self.attempt >= 0, "attempt must be an int >= 0")
        _check(isinstance(self.first_seen, datetime), "first_seen must be a datetime")
        _check(self.first_seen.tzinfo is not None, "first_seen must be timezone-aware")
        try:
            object.__setattr__(self, "first_seen", self.first_seen.astimezone(UTC))
        except OverflowError as error:  # e.g. 0001-01-01 at +01:00
            raise EnvelopeError("first_seen is out of range in UTC") from error
        if self.last_error is not None:
            last_error = _text(self.last_error, "last_error")
            _check(short_error(last_error) == last_error, "last_error must be short, on one line")
        if self.last_status is not None:
            status = self.last_status
            _check(_is_int(status) and 100 <= status <= 599, "last_status must be HTTP")

    def next_attempt(self, error: str, status: int | None) -> Envelope:
        """This envelope after one more failed attempt (``error`` is shortened)."""
        return replace(
            self, attempt=self.attempt + 1, last_error=short_error(error), last_status=status
        )

    def age(self, now: datetime) -> timedelta:
        """How long since the delivery was first seen (negative if clocks disagree).

        Raises:
            ValueError: ``now`` is naive.
        """
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        return now - self.first_seen

    def encode(self) -> str:
        """Compact, versioned JSON text; :meth:`decode` gives back an equal envelope.

        Raises:
            TypeError: the rows or payload hold a value JSON cannot represent.
            ValueError: the rows or payload hold NaN or an infinity.
        """
        document: dict[str, Any] = {"v": VERSION, "kind": "envelope", "id": self.id}
        document |= {"target": self.target, "source": self.source}
        if self.rows is not None:
            document["rows"] = self.rows
        else:
            document["payload"] = self.payload
        document |= {
            "attempt": self.attempt,
            "first_seen": self.first_seen.isoformat(timespec="microseconds"),
            "last_error": self.last_error,
            "last_status": self.last_status,
        }
        return compact_json(document)

    @classmethod
    def decode(cls, text: str | bytes) -> Envelope:
        """The envelope in ``text``.

        Raises:
            EnvelopeError: ``text`` is not an encoded envelope of this version.
        """
        return cls._from_document(_parse(text))

    @classmethod
    def _from_document(cls, document: dict[str, Any]) -> Envelope:
        _check_shape(document, "envelope", _ENVELOPE_KEYS)
        moment = _text(document.get("first_seen"), "first_seen")
        try:
            first_seen = datetime.fromisoformat(moment)
        except ValueError as error:
            raise EnvelopeError("first_seen is not an ISO-8601 time") from error
        names = _ENVELOPE_KEYS - {"v", "kind", "first_seen"}
        fields: dict[str, Any] = {key: document.get(key) for key in names}
        return cls(first_seen=first_seen, **fields)


@dataclass(frozen=True, kw_only=True)
class BlobPointer:
    """Queued in place of an envelope too large for a queue message.

    Attributes:
        container: the blob container holding the envelope's text.
        blob: the blob's name.
        envelope_id: the envelope's id, for logs and dead letters.
        target: the envelope's target, for routing without reading the blob.
    """

    container: str
    blob: str
    envelope_id: str
    target: str

    def __post_init__(self) -> None:
        container = _text(self.container, "container")
        _check(_CONTAINER.fullmatch(container), "container is not a container name")
        blob = _text(self.blob, "blob")
        _check(0 < len(blob) <= 1024 and not _CONTROL.search(blob), "blob is not a blob name")
        _check_uuid(self.envelope_id, "envelope_id")
        _check(_TARGET.fullmatch(_text(self.target, "target")), "target is not <kind>:<name>")

    def encode(self) -> str:
        """Compact, versioned JSON text; :meth:`decode` gives back an equal pointer."""
        return compact_json(
            {
                "v": VERSION,
                "kind": "pointer",
                "container": self.container,
                "blob": self.blob,
                "envelope_id": self.envelope_id,
                "target": self.target,
            }
        )

    @classmethod
    def decode(cls, text: str | bytes) -> BlobPointer:
        """The pointer in ``text``.

        Raises:
            EnvelopeError: ``text`` is not an encoded pointer of this version.
        """
        return cls._from_document(_parse(text))

    @classmethod
    def _from_document(cls, document: dict[str, Any]) -> BlobPointer:
        _check_shape(document, "pointer", _POINTER_KEYS)
        fields: dict[str, Any] = {key: document.get(key) for key in _POINTER_KEYS - {"v", "kind"}}
        return cls(**fields)


def decode_message(text: str | bytes) -> Envelope | BlobPointer:
    """A queue message's content, whichever of the two kinds it holds.

    Raises:
        EnvelopeError: ``text`` is neither kind, in this version.
    """
    document = _parse(text)
    if document.get("kind") == "pointer":
        return BlobPointer._from_document(document)
    return Envelope._from_document(document)


def fits_in_queue_message(encoded: str) -> bool:
    """Whether ``encoded`` still fits a queue message once base64-encoded.

    True when its UTF-8 form is at most 49,152 bytes (``MAX_QUEUE_TEXT_BYTES``), whose
    base64 is at most 65,536 characters. Text that UTF-8 cannot encode does not fit.
    """
    try:
        size = len(encoded.encode("utf-8"))
    except UnicodeEncodeError:
        return False
    return size <= MAX_QUEUE_TEXT_BYTES


def _parse(text: str | bytes) -> dict[str, Any]:
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, TypeError, RecursionError) as error:  # bad JSON or UTF-8, not text
        raise EnvelopeError("queue message is not JSON text") from error
    if not isinstance(document, dict):
        raise EnvelopeError("queue message is not a JSON object")
    return document


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _check_shape(document: dict[str, Any], kind: str, keys: frozenset[str]) -> None:
    version = document.get("v")
    if not _is_int(version) or version != VERSION:
        raise EnvelopeError(f"unsupported message version {version!r:.20}")
    if document.get("kind") != kind:
        raise EnvelopeError(f"message kind is not {kind!r}")
    unknown = set(document) - keys
    if unknown:
        raise EnvelopeError(f"unknown fields: {', '.join(sorted(unknown))[:200]}")


def _check(condition: object, message: str) -> None:
    if not condition:
        raise EnvelopeError(message)


def _text(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise EnvelopeError(f"{name} must be a string")
    return value


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_uuid(value: object, name: str) -> None:
    text = _text(value, name)
    try:
        canonical = str(uuid.UUID(text))
    except ValueError as error:
        raise EnvelopeError(f"{name} is not a UUID") from error
    _check(canonical == text, f"{name} must be a lower-case, hyphenated UUID")
