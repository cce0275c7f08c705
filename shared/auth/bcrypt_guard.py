"""Keeping a slow credential check from becoming a weapon: memory, budgets, a bounded pool.

A bcrypt check costs about 0.1 s of CPU on purpose, and a wrong secret needs no
credential to send. Three things keep a flood of wrong secrets from starving everything
else (issue 11):

- :class:`DigestMemory` remembers outcomes (successes, and separately failures) under an
  keyed BLAKE2b (a MAC, as an HMAC would be, at half the cost per request) of the
  presented secret and the stored hash, keyed fresh in each process. It holds
  no secret, cannot be brute-forced offline, and a rotated hash matches nothing in it.
  A remembered failure is answered without bcrypt, so the same wrong secret costs once.
- :class:`CheckGate` runs checks on its own small thread pool (one thread by default,
  never asyncio's default pool, which every SDK call shares, and leaving the other cores
  to the event loop). It admits at most ``workers + queue`` checks at a time, and at most
  ``per_client`` at a time from one client address; beyond that the caller gets
  :class:`~shared.errors.TooManyRequests` (429 + ``Retry-After``) at once, and no work is
  queued for it. Bcrypt checks that failed are budgeted per client address
  (``failures_per_minute``) and in total (``total_failures_per_minute``), both refilled
  continuously; once either is spent, unremembered secrets get 429 without bcrypt, so
  even a flood that picks a new address per request costs at most about
  ``total_failures_per_minute`` bcrypt runs a minute (120 x ~0.1 s: a fifth of a core).
  The real sender is not locked out by this: its secret, once verified, is remembered
  (``shared.auth.fig``) and needs no bcrypt while it keeps sending.
- One gate per source (each :class:`~shared.auth.fig.FigSecretAuth` owns one), so the
  cost is bounded per source as well as per client address.

The client address is the first hop of ``X-Forwarded-For``, which the Azure Functions
front end (App Service's) sets to the caller's address and port. Behind Front Door or
APIM the first hop is whatever they forward; a sender that adds its own header only
moves itself into another bucket of the same bounded pool.
"""

from __future__ import annotations

import asyncio
import hashlib
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
    """Remembers ``(secret, stored hash)`` pairs for ``ttl`` seconds, by keyed hash only
    (``sliding``: each hit starts the TTL again)."""

    def __init__(
        self,
        *,
        ttl_seconds: float,
        max_entries: int,
        monotonic: Callable[[], float] = time.monotonic,
        key: bytes | None = None,
        sliding: bool = False,
    ) -> None:
        self._sliding = sliding
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._monotonic = monotonic
        self._key = key or secrets.token_bytes(32)
        self._entries: OrderedDict[bytes, float] = OrderedDict()
        self._lock = threading.Lock()

    def digest(self, secret: str, stored_hash: str) -> bytes:
        """The keyed BLAKE2b under this process's key; the only thing ever stored."""
        message = (
            stored_hash.encode("ascii", "replace")
            + b"\x00"
            + secret.encode("utf-8", "surrogatepass")
        )
        return hashlib.blake2b(message, key=self._key, digest_size=32).digest()

    def __contains__(self, digest: object) -> bool:
        now = self._monotonic()
        with self._lock:
            expires = self._entries.get(digest) if isinstance(digest, bytes) else None
            if expires is None:
                return False
            if expires <= now:
                del self._entries[digest]  # type: ignore[arg-type]
                return False
            if self._sliding:  # a use keeps it: a sender that keeps sending stays known
                self._entries[digest] = now + self._ttl  # type: ignore[index]
            return True

    def add(self, digest: bytes) -> None:
        """Remember ``digest`` for the TTL; the oldest entry goes once the cap is reached."""
        with self._lock:
            self._entries[digest] = self._monotonic() + self._ttl
            self._entries.move_to_end(digest)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)


class Budget:
    """A token bucket: ``per_minute`` units, refilled continuously, spent one at a time."""

    def __init__(self, per_minute: float, now: float) -> None:
        self._rate = per_minute / 60.0
        self._burst = per_minute
        self._tokens = per_minute
        self._since = now

    def left(self, now: float) -> float:
        """Units available at ``now``."""
        return min(self._burst, self._tokens + (now - self._since) * self._rate)

    def spend(self, now: float) -> None:
        """Take one unit (the balance may go below zero; it refills the same)."""
        self._tokens = self.left(now) - 1.0
        self._since = now


class CheckGate:
    """A bounded pool for slow checks, with per-client concurrency and failure budgets."""

    def __init__(
        self,
        *,
        workers: int = 1,
        queue: int = 3,
        per_client: int = 1,
        failures_per_minute: float = 30.0,
        total_failures_per_minute: float = 120.0,
        retry_after_seconds: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._workers = workers
        self._capacity = workers + queue
        self._per_client = per_client
        self._client_rate = failures_per_minute
        self._retry_after = retry_after_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._in_flight = 0
        self._by_client: dict[str, int] = {}
        self._budgets: OrderedDict[str, Budget] = OrderedDict()
        self._total = Budget(total_failures_per_minute, monotonic())
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
        """Spend one unit of ``client``'s failure budget and of the total one."""
        now = self._monotonic()
        with self._lock:
            self._budget(client, now).spend(now)
            self._total.spend(now)

    def _admit(self, client: str) -> None:
        now = self._monotonic()
        with self._lock:
            if (
                self._in_flight >= self._capacity
                or self._by_client.get(client, 0) >= self._per_client
                or self._budget(client, now).left(now) < 1.0
                or self._total.left(now) < 1.0
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

    def _budget(self, client: str, now: float) -> Budget:
        """The client's failure budget (caller holds the lock); the oldest forgotten first."""
        budget = self._budgets.get(client)
        if budget is None:
            budget = self._budgets[client] = Budget(self._client_rate, now)
            while len(self._budgets) > MAX_TRACKED_CLIENTS:
                self._budgets.popitem(last=False)
        self._budgets.move_to_end(client)
        return budget

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=self._workers, thread_name_prefix="bcrypt-check"
                )
            return self._executor
