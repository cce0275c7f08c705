"""Keeping a slow credential check from becoming a weapon: memory, budgets, a bounded pool.

A bcrypt check costs about 0.1 s of CPU on purpose, and a wrong secret needs no
credential to send. Three things keep a flood of wrong secrets from starving everything
else (issue 11):

- :class:`DigestMemory` remembers outcomes (successes, and separately failures) under an
  HMAC of the presented secret and the stored hash, keyed fresh in each process. It holds
  no secret, cannot be brute-forced offline, and a rotated hash matches nothing in it.
  A remembered failure is answered without bcrypt, so the same wrong secret costs once.
- :class:`CheckGate` runs checks on its own small thread pool (never asyncio's default
  pool, which every SDK call shares). It admits at most ``workers + queue`` checks at a
  time, and at most ``per_client`` at a time from one client address; beyond that the
  caller gets :class:`~shared.errors.TooManyRequests` (429 + ``Retry-After``) at once,
  and no work is queued for it. Each client address also has a budget of bcrypt checks
  that failed (``failures_per_minute``, refilled continuously); once spent, further
  unremembered secrets from it get 429 without bcrypt until it refills.
- One gate per source (each :class:`~shared.auth.fig.FigSecretAuth` owns one), so the
  cost is bounded per source as well as per client address.

The client address is the first hop of ``X-Forwarded-For``, which the Azure Functions
front end (App Service's) sets to the caller's address and port. Behind Front Door or
APIM the first hop is whatever they forward; a sender that adds its own header only
moves itself into another bucket of the same bounded pool.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from shared.errors import TooManyRequests

T = TypeVar("T")
UNKNOWN_CLIENT = "unknown"
MAX_TRACKED_CLIENTS = 4096


def client_address(headers: Mapping[str, str]) -> str:
    """The caller's address: ``X-Forwarded-For``'s first hop, without a port."""
    first = headers.get("x-forwarded-for", "").split(",")[0].strip()
    if not first:
        return UNKNOWN_CLIENT
    if first.startswith("["):  # [v6]:port
        return first[1:].partition("]")[0] or UNKNOWN_CLIENT
    host, sep, port = first.rpartition(":")
    if sep and host and ":" not in host and port.isdigit():  # v4:port
        return host
    return first[:64]


class DigestMemory:
    """Remembers ``(secret, stored hash)`` pairs for ``ttl`` seconds, by HMAC only."""

    def __init__(
        self,
        *,
        ttl_seconds: float,
        max_entries: int,
        monotonic: Callable[[], float] = time.monotonic,
        key: bytes | None = None,
    ) -> None:
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._monotonic = monotonic
        self._key = key or secrets.token_bytes(32)
        self._entries: OrderedDict[bytes, float] = OrderedDict()
        self._lock = threading.Lock()

    def digest(self, secret: str, stored_hash: str) -> bytes:
        """The HMAC under this process's key; the only thing ever stored."""
        message = (
            stored_hash.encode("ascii", "replace")
            + b"\x00"
            + secret.encode("utf-8", "surrogatepass")
        )
        return hmac.digest(self._key, message, "sha256")

    def __contains__(self, digest: object) -> bool:
        now = self._monotonic()
        with self._lock:
            expires = self._entries.get(digest) if isinstance(digest, bytes) else None
            if expires is None:
                return False
            if expires <= now:
                del self._entries[digest]  # type: ignore[arg-type]
                return False
            return True

    def add(self, digest: bytes) -> None:
        """Remember ``digest`` for the TTL; the oldest entry goes once the cap is reached."""
        with self._lock:
            self._entries[digest] = self._monotonic() + self._ttl
            self._entries.move_to_end(digest)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)


class CheckGate:
    """A bounded pool for slow checks, with per-client concurrency and failure budgets."""

    def __init__(
        self,
        *,
        workers: int = 2,
        queue: int = 4,
        per_client: int = 2,
        failures_per_minute: float = 30.0,
        retry_after_seconds: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._workers = workers
        self._capacity = workers + queue
        self._per_client = per_client
        self._failure_rate = failures_per_minute / 60.0
        self._failure_burst = failures_per_minute
        self._retry_after = retry_after_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._in_flight = 0
        self._by_client: dict[str, int] = {}
        self._budgets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._executor: ThreadPoolExecutor | None = None  # made on first use, not at import

    @property
    def in_flight(self) -> int:
        """Checks admitted and not yet finished (running or waiting for a worker)."""
        with self._lock:
            return self._in_flight

    async def run(self, client: str, check: Callable[[], T]) -> T:
        """Run ``check`` on the gate's own pool, or refuse at once.

        Raises:
            TooManyRequests: the pool, this client's share of it, or its failure budget
                is used up; nothing was queued.
        """
        self._admit(client)
        try:
            future = self._pool().submit(check)
        except BaseException:
            self._release(client)
            raise
        # Released when the work ends, not when the caller stops waiting: a cancelled
        # request must not free a slot whose thread is still busy.
        future.add_done_callback(lambda _done: self._release(client))
        return await asyncio.wrap_future(future)

    def failed(self, client: str) -> None:
        """Spend one unit of ``client``'s failure budget (a bcrypt check that did not match)."""
        with self._lock:
            tokens = self._tokens(client) - 1.0
            self._budgets[client] = (tokens, self._monotonic())
            self._budgets.move_to_end(client)
            while len(self._budgets) > MAX_TRACKED_CLIENTS:
                self._budgets.popitem(last=False)

    def _admit(self, client: str) -> None:
        with self._lock:
            if (
                self._in_flight >= self._capacity
                or self._by_client.get(client, 0) >= self._per_client
                or self._tokens(client) < 1.0
            ):
                raise TooManyRequests(retry_after=self._retry_after)
            self._in_flight += 1
            self._by_client[client] = self._by_client.get(client, 0) + 1

    def _release(self, client: str) -> None:
        with self._lock:
            self._in_flight -= 1
            left = self._by_client.get(client, 1) - 1
            if left:
                self._by_client[client] = left
            else:
                self._by_client.pop(client, None)

    def _tokens(self, client: str) -> float:
        """The client's budget now (caller holds the lock)."""
        budget = self._budgets.get(client)
        if budget is None:
            return self._failure_burst
        tokens, since = budget
        refilled = tokens + (self._monotonic() - since) * self._failure_rate
        return min(self._failure_burst, refilled)

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=self._workers, thread_name_prefix="bcrypt-check"
                )
            return self._executor
