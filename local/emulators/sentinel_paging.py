"""Skip tokens for the Sentinel emulator's incident list.

How the real service pages is unknown (its ``$skipToken`` is opaque). The emulator offers:

- ``"snapshot"`` (default): the first request evaluates ``$filter`` and ``$orderby`` once and
  freezes the matching incidents as they were; every later page reads that frozen list. An
  update between pages cannot make the client miss or repeat an incident that matched, and
  the client sees each incident as of the first request (the newer version shows up in the
  next poll, with a later ``lastModifiedTimeUtc``). The behaviour a careful client hopes for.
- ``"offset"``: the token is a plain offset and each page re-runs the query on the current
  state, so an incident that moves in the ordering (``lastModifiedTimeUtc`` after an update)
  can be skipped or returned twice. The worst case, for testing the app's overlap and dedup.

A token is base64url JSON ``{"s": snapshot id or null, "o": offset}``; an unknown or
evicted snapshot answers 400 (assumed code ``BadRequest``).
"""

from __future__ import annotations

import base64
import binascii
import collections
import itertools
import json
import threading
from collections.abc import Callable
from typing import Any, Literal

from local.emulators.sentinel_model import ArmError

PagingMode = Literal["snapshot", "offset"]
MAX_SNAPSHOTS = 64


def encode_token(snapshot: int | None, offset: int) -> str:
    """An opaque, URL-safe skip token."""
    raw = json.dumps({"s": snapshot, "o": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_token(token: str) -> tuple[int | None, int]:
    """Read a skip token back.

    Raises:
        ArmError: 400 for a token the emulator did not make.
    """
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        snapshot, offset = data["s"], data["o"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise ArmError(400, "BadRequest", "The $skipToken is not valid.") from exc
    if not isinstance(offset, int) or offset < 0 or not isinstance(snapshot, int | None):
        raise ArmError(400, "BadRequest", "The $skipToken is not valid.")
    return snapshot, offset


class Pager:
    """Cuts query results into pages and remembers snapshots; thread-safe.

    Args:
        mode: ``"snapshot"`` or ``"offset"`` (see the module docstring).
    """

    def __init__(self, mode: PagingMode = "snapshot") -> None:
        self.mode: PagingMode = mode
        self._lock = threading.Lock()
        self._snapshots: collections.OrderedDict[int, list[dict[str, Any]]] = (
            collections.OrderedDict()
        )
        self._ids = itertools.count(1)

    def page(
        self,
        token: str | None,
        top: int,
        evaluate: Callable[[], list[dict[str, Any]]],
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of results and the token of the next page (None on the last page).

        Args:
            token: The request's ``$skipToken``, if any.
            top: The page size.
            evaluate: Runs the query on the current state (a list of copies).

        Returns:
            The page's items and the next skip token.

        Raises:
            ArmError: 400 for a bad or expired token.
        """
        snapshot, offset = (None, 0) if token is None else decode_token(token)
        if self.mode == "offset":
            items, snapshot = evaluate(), None
        elif snapshot is None:
            items = evaluate()
            if len(items) > top:
                snapshot = self._remember(items)
        else:
            items = self._recall(snapshot)
        end = offset + top
        next_token = encode_token(snapshot, end) if end < len(items) else None
        return items[offset:end], next_token

    def _remember(self, items: list[dict[str, Any]]) -> int:
        with self._lock:
            snapshot = next(self._ids)
            self._snapshots[snapshot] = items
            while len(self._snapshots) > MAX_SNAPSHOTS:
                self._snapshots.popitem(last=False)
            return snapshot

    def _recall(self, snapshot: int) -> list[dict[str, Any]]:
        with self._lock:
            items = self._snapshots.get(snapshot)
            if items is None:
                raise ArmError(400, "BadRequest", "The $skipToken has expired.")
            self._snapshots.move_to_end(snapshot)
            return items

    def clear(self) -> None:
        """Forget every snapshot."""
        with self._lock:
            self._snapshots.clear()
