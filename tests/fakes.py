"""Small fakes of the bridge's own ports, for service tests without a network.

They record what they were asked, like Cosmic Python's fakes; the SDK adapters themselves
are tested against the emulators, never replaced by patches.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from shared.delivery import Envelope
from shared.errors import IngestionFailed, Refused, SecretMissing, UpstreamUnavailable


class FakeSecrets:
    """A SecretStore over a dict; ``down`` makes every read fail like an outage.

    Not a dict subclass: the port's async ``get`` would clash with ``dict.get``.
    """

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self.values = dict(values or {})
        self.down = False
        self.reads: list[str] = []

    def __setitem__(self, name: str, value: str) -> None:
        self.values[name] = value

    def __delitem__(self, name: str) -> None:
        del self.values[name]

    async def get(self, name: str, *, max_age: float | None = None) -> str:
        self.reads.append(name)
        if self.down:
            raise UpstreamUnavailable("secret store down")
        if name not in self.values:
            raise SecretMissing(name)
        return self.values[name]

    async def probe(self, name: str) -> None:
        await self.get(name)


class FakeSink(list[tuple[str, list[dict[str, Any]]]]):
    """A RowSink that records (stream, rows); ``refuse_with`` makes sends fail."""

    def __init__(self) -> None:
        super().__init__()
        self.refuse_with: int | None = None

    async def send(self, stream: str, rows: Sequence[dict[str, Any]]) -> None:
        if self.refuse_with is not None:
            refused = Refused(
                tuple(range(len(rows))),
                self.refuse_with,
                7,
                f"answered {self.refuse_with}",
                permanent=self.refuse_with in (400, 404, 413),
                rows=tuple(rows),
            )
            raise IngestionFailed(
                "refused", refused=[refused], status=self.refuse_with, retry_after=7
            )
        self.append((stream, list(rows)))

    async def probe(self, stream: str) -> None:
        if self.refuse_with is not None:
            raise UpstreamUnavailable("refused", upstream_status=self.refuse_with)

    @property
    def rows(self) -> list[dict[str, Any]]:
        return [row for _, rows in self for row in rows]


class FakeQueue(list[tuple["Envelope", float]]):
    """A RetryQueue that records (envelope, delay); ``down`` makes it refuse."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    async def enqueue(self, envelope: Envelope, *, delay_seconds: float = 0.0) -> None:
        if self.down:
            raise UpstreamUnavailable("queue down")
        self.append((envelope, delay_seconds))

    async def depth(self) -> int:
        return len(self)

    async def oldest_age_seconds(self, now: datetime) -> float | None:
        return max((envelope.age(now).total_seconds() for envelope, _ in self), default=None)


class FakeDeadLetters:
    """DeadLetters that records (envelope, reason), and unreadable texts apart.

    Not a list subclass: the port's async ``count`` would clash with ``list.count``.
    """

    def __init__(self) -> None:
        self.letters: list[tuple[Envelope, str]] = []
        self.unreadable: list[tuple[str, str]] = []

    def __len__(self) -> int:
        return len(self.letters)

    def __iter__(self) -> Iterator[tuple[Envelope, str]]:
        return iter(self.letters)

    def __getitem__(self, index: int) -> tuple[Envelope, str]:
        return self.letters[index]

    async def put(self, envelope: Envelope, *, reason: str) -> str:
        self.letters.append((envelope, reason))
        return f"dead-{len(self)}"

    async def put_unreadable(self, text: str, *, reason: str) -> str:
        self.unreadable.append((text, reason))
        return f"unreadable-{len(self.unreadable)}"

    async def count(self) -> int:
        return len(self) + len(self.unreadable)
