"""Dead letters (``DeadLetters`` port): one JSON blob per delivery the bridge gave up on.

Blob names sort by day, then target, then time::

    2026-11-23/sentinel:Custom-FigEvents/125301.123456Z-<envelope id>.json
    2026-11-23/unreadable/125301.123456Z-<random uuid>.json

A dead letter's document (``"kind": "dead-letter"``) keeps the whole envelope text, so it
can be replayed as it was, beside what an operator needs to decide whether to::

    {"v": 1, "kind": "dead-letter", "reason": "...", "target": "sentinel:Custom-FigEvents",
     "source": "fig", "envelope_id": "...", "attempts": 3, "rows": 2,
     "first_seen": "...", "dead_lettered_at": "...", "last_status": 400,
     "last_error": "...", "envelope": "<the envelope's JSON text>"}

A queue message the worker could not decode is kept too (``"kind": "unreadable"``, with
``reason`` and the message ``text``), so it is visible instead of looping as poison. The
reason, target, source and attempts are also blob metadata, so listing reads no blob.

Dead letters hold event data: the container is private, and nothing here logs content.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.storage.blob import ContainerClient

from shared.adapters.storage_common import unavailable, upload_json
from shared.delivery.envelope import Envelope

logger = logging.getLogger(__name__)

VERSION = 1
UNREADABLE = "unreadable"
_NAME = re.compile(
    r"\d{4}-\d{2}-\d{2}/(unreadable|[a-z][a-z0-9]*:[A-Za-z0-9][A-Za-z0-9_.-]{0,127})/"
    r"\d{6}\.\d{6}Z-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.json"
)
_NOT_METADATA = re.compile(r"[^\x20-\x7e]+")  # metadata values are printable ASCII headers
_MAX_METADATA_CHARS = 512


def is_dead_letter_name(name: str) -> bool:
    """Whether ``name`` has the shape of a dead letter's name (checked before any lookup)."""
    return _NAME.fullmatch(name) is not None


@dataclass(frozen=True)
class DeadLetterSummary:
    """One dead letter as listed: its name and metadata, without reading the blob."""

    name: str
    kind: str
    reason: str
    target: str
    source: str
    attempts: int
    dead_lettered_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        """JSON-ready, for the admin route and the CLI."""
        moment = self.dead_lettered_at
        return {
            "name": self.name,
            "kind": self.kind,
            "reason": self.reason,
            "target": self.target,
            "source": self.source,
            "attempts": self.attempts,
            "deadLetteredAt": moment.isoformat() if moment is not None else None,
        }


@dataclass(frozen=True)
class DeadLetter:
    """One dead letter as stored: the document, and the envelope text if there is one."""

    name: str
    document: dict[str, Any]

    @property
    def replayable(self) -> bool:
        """True for a dead envelope; an unreadable message cannot be sent again."""
        return self.document.get("kind") == "dead-letter" and "envelope" in self.document

    def envelope(self) -> Envelope:
        """The envelope as it was dead-lettered.

        Raises:
            EnvelopeError: the stored text is not an envelope (an unreadable message).
        """
        return Envelope.decode(str(self.document.get("envelope", "")))


Summaries = list[DeadLetterSummary]


class BlobDeadLetters:
    """``DeadLetters`` over a (sync) ``ContainerClient``; calls run in a worker thread."""

    def __init__(
        self, container: ContainerClient, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        self._container = container
        self._clock = clock or (lambda: datetime.now(UTC))

    @property
    def container_name(self) -> str:
        """The dead-letter container's name."""
        return str(self._container.container_name)

    async def put(self, envelope: Envelope, *, reason: str) -> str:
        """Keep ``envelope`` with ``reason``; return the dead letter's name.

        Raises:
            UpstreamUnavailable: storage did not accept it.
        """
        now = self._clock()
        name = _name(now, envelope.target, envelope.id)
        document = {
            "v": VERSION,
            "kind": "dead-letter",
            "reason": reason,
            "target": envelope.target,
            "source": envelope.source,
            "envelope_id": envelope.id,
            "attempts": envelope.attempt,
            "rows": len(envelope.rows) if envelope.rows is not None else None,
            "first_seen": envelope.first_seen.isoformat(),
            "dead_lettered_at": now.isoformat(),
            "last_status": envelope.last_status,
            "last_error": envelope.last_error,
            "envelope": envelope.encode(),
        }
        metadata = {
            "kind": "dead-letter",
            "reason": reason,
            "target": envelope.target,
            "source": envelope.source,
            "attempts": str(envelope.attempt),
        }
        await self._write(name, document, metadata)
        logger.warning(
            "Dead-lettered %s for %s as %s: %s", envelope.id, envelope.target, name, reason
        )
        return name

    async def put_unreadable(self, text: str, *, reason: str) -> str:
        """Keep a queue message that does not decode, with ``reason``; return its name.

        Raises:
            UpstreamUnavailable: storage did not accept it.
        """
        now = self._clock()
        name = _name(now, UNREADABLE, str(uuid.uuid4()))
        document = {
            "v": VERSION,
            "kind": UNREADABLE,
            "reason": reason,
            "dead_lettered_at": now.isoformat(),
            "text": text,
        }
        metadata = {"kind": UNREADABLE, "reason": reason, "target": UNREADABLE, "source": ""}
        await self._write(name, document, metadata | {"attempts": "0"})
        logger.warning("Unreadable queue message kept as %s: %s", name, reason)
        return name

    async def list(self, limit: int = 100, *, target: str | None = None) -> Summaries:
        """Up to ``limit`` dead letters, oldest day first, optionally of one ``target``.

        Raises:
            UpstreamUnavailable: storage did not answer.
        """
        summaries = await self._summaries(target, limit)
        return summaries[:limit]

    async def counts(self) -> dict[str, int]:
        """How many dead letters each target has (``unreadable`` for undecodable messages).

        Raises:
            UpstreamUnavailable: storage did not answer.
        """
        return dict(Counter(summary.target for summary in await self._summaries(None, None)))

    async def count(self) -> int:
        """How many dead letters there are.

        Raises:
            UpstreamUnavailable: storage did not answer.
        """
        return sum((await self.counts()).values())

    async def get(self, name: str) -> DeadLetter | None:
        """The dead letter ``name``, or None if there is none.

        Raises:
            ValueError: ``name`` is not a dead letter's name.
            UpstreamUnavailable: storage did not answer.
        """
        _check_name(name)
        try:
            data = await asyncio.to_thread(self._download, name)
        except ResourceNotFoundError:
            return None
        except AzureError as error:
            raise unavailable("dead-letter read", error) from None
        document = json.loads(data)
        return DeadLetter(name, document if isinstance(document, dict) else {"value": document})

    async def delete(self, name: str) -> bool:
        """Delete the dead letter ``name``; False if there was none.

        Raises:
            ValueError: ``name`` is not a dead letter's name.
            UpstreamUnavailable: storage did not answer.
        """
        _check_name(name)
        try:
            await asyncio.to_thread(self._container.delete_blob, name)
        except ResourceNotFoundError:
            return False
        except AzureError as error:
            raise unavailable("dead-letter delete", error) from None
        return True

    async def _write(self, name: str, document: dict[str, Any], metadata: dict[str, str]) -> None:
        text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
        safe = {key: _metadata_value(value) for key, value in metadata.items()}
        try:
            await asyncio.to_thread(upload_json, self._container, name, text, metadata=safe)
        except AzureError as error:
            raise unavailable("dead-letter write", error) from None

    async def _summaries(self, target: str | None, limit: int | None) -> Summaries:
        try:
            return await asyncio.to_thread(_list_summaries, self._container, target, limit)
        except AzureError as error:
            raise unavailable("dead-letter listing", error) from None

    def _download(self, name: str) -> bytes:
        return bytes(self._container.download_blob(name).readall())


def _list_summaries(container: ContainerClient, target: str | None, limit: int | None) -> Summaries:
    summaries: Summaries = []
    try:
        for blob in container.list_blobs(include=["metadata"]):
            if not is_dead_letter_name(blob.name):
                continue
            summary = _summary(blob.name, blob.metadata or {}, blob.last_modified)
            if target is None or summary.target == target:
                summaries.append(summary)
            if limit is not None and len(summaries) >= limit:
                break
    except ResourceNotFoundError:  # no container yet: no dead letters
        return []
    return summaries


def _name(now: datetime, target: str, unique: str) -> str:
    moment = now.astimezone(UTC)
    return f"{moment:%Y-%m-%d}/{target}/{moment:%H%M%S.%f}Z-{unique}.json"


def _summary(name: str, metadata: dict[str, str], modified: datetime | None) -> DeadLetterSummary:
    target = name.split("/")[1]
    attempts = metadata.get("attempts", "0")
    return DeadLetterSummary(
        name=name,
        kind=metadata.get("kind", UNREADABLE if target == UNREADABLE else "dead-letter"),
        reason=metadata.get("reason", ""),
        target=target,
        source=metadata.get("source", ""),
        attempts=int(attempts) if attempts.isdigit() else 0,
        dead_lettered_at=modified,
    )


def _metadata_value(text: str) -> str:
    flat = _NOT_METADATA.sub(" ", text).strip()
    return flat[:_MAX_METADATA_CHARS]


def _check_name(name: str) -> None:
    if not is_dead_letter_name(name):
        raise ValueError("not a dead letter's name")
