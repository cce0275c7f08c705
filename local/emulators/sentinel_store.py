"""The Sentinel emulator's data: one workspace's incidents, its switches and its counters.

No HTTP here. The ARM app (:mod:`local.emulators.sentinel`) and the admin routes
(:mod:`local.emulators.sentinel_admin`) both receive this store; neither knows the other.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Literal

from local.emulators.sentinel_data import ROLE_PERMISSIONS, Role, WorkspaceRef
from local.emulators.sentinel_incidents import IncidentStore
from local.emulators.sentinel_paging import Pager, PagingMode

RateKind = Literal["reads", "writes"]
_REMAINING = {"reads": 12000, "writes": 1200}
DEFAULT_PAGE_SIZE = 50


class SentinelStore:
    """Incidents, paging snapshots, the caller's role, nextLink style and request counters.

    Args:
        workspace: Subscription, resource group and workspace the ids name.
        clock: Aware "now" for incident timestamps.
        role: What the caller may do: ``responder`` (default), ``reader`` or ``none``.
        paging: ``snapshot`` (default) or ``offset``; see :mod:`sentinel_paging`.
    """

    def __init__(
        self,
        workspace: WorkspaceRef,
        clock: Callable[[], datetime],
        *,
        role: Role = "responder",
        paging: PagingMode = "snapshot",
    ) -> None:
        self.ref = workspace
        self.incidents = IncidentStore(workspace, clock)
        self.pager = Pager(paging)
        self.role: Role = role
        self.default_page_size = DEFAULT_PAGE_SIZE
        # Escape nextLink values (the reference's example) or leave them raw (what Elastic
        # reports receiving: it re-encodes the query because it arrives unescaped).
        self.raw_next_link = False
        self._lock = threading.Lock()
        self._calls: collections.Counter[str] = collections.Counter()
        self._history: list[dict[str, Any]] = []
        self._refused = 0
        self._remaining = dict(_REMAINING)

    # -- switches ----------------------------------------------------------------------------

    def set_role(self, role: Role) -> None:
        """Grant the caller the documented Responder or Reader actions, or nothing."""
        if role not in ROLE_PERMISSIONS:
            raise ValueError(f"unknown role {role!r}")
        self.role = role

    def set_ratelimit_remaining(
        self, *, reads: int | None = None, writes: int | None = None
    ) -> None:
        """Set the counters the ``x-ms-ratelimit-remaining-subscription-*`` headers show."""
        with self._lock:
            if reads is not None:
                self._remaining["reads"] = reads
            if writes is not None:
                self._remaining["writes"] = writes

    def share_budget(self, other: SentinelStore) -> None:
        """Spend from ``other``'s read and write budget (workspaces of one subscription)."""
        self._remaining = other._remaining

    # -- counters ----------------------------------------------------------------------------

    def spend(self, kind: RateKind) -> int:
        """One request against the reads or writes budget; what remains of it."""
        with self._lock:
            self._remaining[kind] = max(0, self._remaining[kind] - 1)
            return self._remaining[kind]

    def record_call(self, operation: str, method: str, query: Mapping[str, str]) -> None:
        """One request routed to ``operation``, whatever its outcome."""
        with self._lock:
            self._calls[operation] += 1
            self._history.append({"operation": operation, "method": method, "query": dict(query)})

    def count_refusal(self) -> None:
        """One request refused for its token or its role (401 or 403)."""
        with self._lock:
            self._refused += 1

    def calls(self, operation: str | None = None) -> int:
        """Requests routed to an operation (list, get, put, comment, comments, alerts,
        entities, permissions), whatever their outcome; all of them without an argument."""
        with self._lock:
            return self._calls[operation] if operation else sum(self._calls.values())

    def history(self, operation: str | None = None) -> list[dict[str, Any]]:
        """Routed requests in order: ``{"operation", "method", "query"}`` (api-version...)."""
        with self._lock:
            return [dict(h) for h in self._history if operation in (None, h["operation"])]

    def stats(self) -> dict[str, Any]:
        """Counters for ``/_emulator/stats``."""
        with self._lock:
            return {
                "calls": dict(self._calls),
                "refused": self._refused,
                "remaining": dict(self._remaining),
                "incidents": len(self.incidents.all()),
                "role": self.role,
            }

    def reset(self) -> None:
        """Forget incidents, snapshots and counters; role, paging and nextLinks as new."""
        self.incidents.clear()
        self.incidents.comments_bump_incident = False
        self.pager.clear()
        self.pager.mode = "snapshot"
        self.role = "responder"
        self.raw_next_link = False
        self.default_page_size = DEFAULT_PAGE_SIZE
        with self._lock:
            self._calls.clear()
            self._history.clear()
            self._refused = 0
            self._remaining = dict(_REMAINING)
