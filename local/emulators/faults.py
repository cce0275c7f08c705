"""Fault injection shared by every emulator: errors, latency, lost answers, resets.

A :class:`Fault` says what to do to matching requests; a :class:`FaultPlan` holds the rules
of one emulator and is safe to change from any thread while the server runs. The aiohttp
middleware from :func:`fault_middleware` applies the plan to every request except the
``/_emulator/`` admin routes. For an outage with *connection refused*, stop the emulator
(``EmulatorStack.stop_emulator``); for *connection reset* on every request, add
``Fault(reset_connection=True)`` with no ``times`` and no window.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

logger = logging.getLogger(__name__)

ADMIN_PREFIX = "/_emulator/"
Clock = Callable[[], float]
# Builds a service's error body from (status, code, message).
ErrorEnvelope = Callable[[int, str, str], dict[str, Any]]


def azure_error_envelope(status: int, code: str, message: str) -> dict[str, Any]:
    """The ``{"error": {"code", "message"}}`` body Key Vault and Logs Ingestion use."""
    del status  # The Azure envelope does not repeat the status.
    return {"error": {"code": code, "message": message}}


@dataclass(frozen=True)
class Fault:
    """One fault rule. Unset matchers match everything.

    Attributes:
        status: Status to answer with; None with ``delay`` only adds latency.
        path_prefix: Match request paths starting with this.
        path_regex: Match request paths this regex searches successfully.
        method: Match only this HTTP method (e.g. ``"POST"``).
        retry_after: Seconds for a ``Retry-After`` header.
        body: JSON body to send; None sends the service's error envelope.
        error_code: The code in the default envelope and in ``x-ms-error-code``.
        delay: Seconds by which the answer is late; a processed request is processed first.
        times: Apply to the next N matching requests only.
        for_seconds: Apply for this long after the rule is added (by the plan's clock).
        accept_then_fail: Process the request and keep its effect, then answer ``status``
            (500 by default) or reset the connection: the answer is lost.
        reset_connection: Answer with a TCP reset instead of a status.
    """

    status: int | None = None
    path_prefix: str | None = None
    path_regex: str | None = None
    method: str | None = None
    retry_after: float | None = None
    body: Any = None
    error_code: str = "EmulatedFault"
    delay: float = 0.0
    times: int | None = None
    for_seconds: float | None = None
    accept_then_fail: bool = False
    reset_connection: bool = False

    def __post_init__(self) -> None:
        # Rules also arrive as JSON from the admin route, so check types, not just ranges.
        _require_number("status", self.status, integer=True)
        if self.status is not None and self.status < 400:
            raise ValueError("status must be an HTTP error status (>= 400)")
        for name in ("retry_after", "delay", "for_seconds", "times"):
            _require_number(name, getattr(self, name), integer=name == "times")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1")
        if self.delay < 0 or (self.for_seconds is not None and self.for_seconds <= 0):
            raise ValueError("delay must be >= 0 and for_seconds > 0")
        if self.path_regex is not None:
            re.compile(self.path_regex)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Fault:
        """Build a rule from JSON (the admin route), refusing unknown keys.

        Args:
            data: Field names and values, as in :func:`dataclasses.asdict`.

        Returns:
            The rule.

        Raises:
            ValueError: A key is unknown or a value is out of range.
        """
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        return cls(**data)

    def matches(self, method: str, path: str) -> bool:
        """Whether this rule's matchers accept the request."""
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self.path_prefix is not None and not path.startswith(self.path_prefix):
            return False
        return self.path_regex is None or re.search(self.path_regex, path) is not None


def _require_number(name: str, value: object, *, integer: bool = False) -> None:
    """Refuse a rule field holding a non-number (a string or bool from JSON, say)."""
    allowed = int if integer else int | float
    if value is not None and (isinstance(value, bool) or not isinstance(value, allowed)):
        raise TypeError(f"{name} must be {'an integer' if integer else 'a number'}")


@dataclass
class _ActiveRule:
    rule_id: int
    fault: Fault
    remaining: int | None
    expires_at: float | None


class FaultPlan:
    """The fault rules of one emulator; thread-safe.

    Args:
        clock: Seconds from an arbitrary origin; ``for_seconds`` windows are measured with it.
    """

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._rules: list[_ActiveRule] = []
        self._ids = itertools.count(1)
        self.applied = 0

    def add(self, fault: Fault) -> int:
        """Add a rule after the existing ones (the first matching rule wins); return its id."""
        expires_at = None if fault.for_seconds is None else self._clock() + fault.for_seconds
        with self._lock:
            rule = _ActiveRule(next(self._ids), fault, fault.times, expires_at)
            self._rules.append(rule)
        logger.info("fault %d added: status=%s delay=%s", rule.rule_id, fault.status, fault.delay)
        return rule.rule_id

    def remove(self, rule_id: int) -> bool:
        """Remove one rule; return whether it existed."""
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.rule_id != rule_id]
            return len(self._rules) != before

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()

    def describe(self) -> list[dict[str, Any]]:
        """The live rules as JSON-ready dicts, with their id and remaining count."""
        now = self._clock()
        with self._lock:
            self._drop_spent(now)
            return [
                {"id": r.rule_id, "remaining": r.remaining, **asdict(r.fault)} for r in self._rules
            ]

    def pick(self, method: str, path: str) -> Fault | None:
        """Return the rule for a request, consuming one of its ``times``; None if none applies."""
        now = self._clock()
        with self._lock:
            self._drop_spent(now)
            for rule in self._rules:
                if rule.fault.matches(method, path):
                    if rule.remaining is not None:
                        rule.remaining -= 1
                    self.applied += 1
                    return rule.fault
        return None

    def _drop_spent(self, now: float) -> None:
        self._rules = [
            r
            for r in self._rules
            if (r.remaining is None or r.remaining > 0)
            and (r.expires_at is None or now < r.expires_at)
        ]


def reset_connection(request: web.Request) -> None:
    """Abort the request's TCP connection with a reset (RST), not an orderly close."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        # SO_LINGER with a zero timeout makes close() send RST: the client sees "reset by peer".
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def fault_response(fault: Fault, envelope: ErrorEnvelope, status: int) -> web.Response:
    """The response a fault rule sends instead of (or after) the real handler."""
    body = fault.body
    if body is None:
        body = envelope(status, fault.error_code, f"Fault injected by the emulator ({status}).")
    headers = {"x-ms-error-code": fault.error_code}
    if fault.retry_after is not None:
        headers["Retry-After"] = f"{fault.retry_after:g}"
    return web.json_response(body, status=status, headers=headers)


def fault_middleware(plan: FaultPlan, envelope: ErrorEnvelope = azure_error_envelope) -> Middleware:
    """An aiohttp middleware applying ``plan`` to every non-admin request.

    Args:
        plan: The rules to apply.
        envelope: Builds the service's error body for rules without ``body``.

    Returns:
        The middleware, for ``web.Application(middlewares=[...])``.
    """

    @web.middleware
    async def apply_faults(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(ADMIN_PREFIX):
            return await handler(request)
        fault = plan.pick(request.method, request.path)
        if fault is None:
            return await handler(request)
        if fault.accept_then_fail:
            response = await handler(request)
            await asyncio.sleep(fault.delay)
            if response.status >= 400:
                return response  # Nothing was accepted, so there is no answer to lose.
            logger.info("fault: %s %s accepted, answer dropped", request.method, request.path)
            return await _fail(request, fault, envelope, default_status=500)
        if fault.reset_connection or fault.status is not None:
            await asyncio.sleep(fault.delay)
            logger.info("fault: %s %s refused", request.method, request.path)
            return await _fail(request, fault, envelope, default_status=500)
        # Latency only: the request is processed at once and the answer is late, so a client
        # that times out has still had its request carried out (as with a slow service).
        response = await handler(request)
        await asyncio.sleep(fault.delay)
        return response

    return apply_faults


async def _fail(
    request: web.Request, fault: Fault, envelope: ErrorEnvelope, *, default_status: int
) -> web.StreamResponse:
    if fault.reset_connection:
        # Take the whole request first so the client is waiting for its answer when the
        # reset comes (a lost answer), not still sending (which it would report differently).
        with contextlib.suppress(ConnectionError):
            async for _chunk in request.content.iter_any():
                pass
        reset_connection(request)
        # aiohttp finds the transport closed and writes nothing.
        return web.Response(status=500)
    return fault_response(fault, envelope, fault.status or default_status)


def fault_admin_routes(plan: FaultPlan) -> list[web.RouteDef]:
    """``GET/POST/DELETE /_emulator/faults``: list, add (JSON object or list) and clear rules."""

    async def list_faults(request: web.Request) -> web.Response:
        return web.json_response({"faults": plan.describe(), "applied": plan.applied})

    async def add_faults(request: web.Request) -> web.Response:
        try:
            payload = await request.json()
            items = payload if isinstance(payload, list) else [payload]
            new_rules = [Fault.from_dict(item) for item in items]
        except (ValueError, TypeError, re.error) as exc:
            return web.json_response(azure_error_envelope(400, "BadFault", str(exc)), status=400)
        return web.json_response({"ids": [plan.add(rule) for rule in new_rules]}, status=201)

    async def clear_faults(request: web.Request) -> web.Response:
        plan.clear()
        return web.Response(status=204)

    return [
        web.get(ADMIN_PREFIX + "faults", list_faults),
        web.post(ADMIN_PREFIX + "faults", add_faults),
        web.delete(ADMIN_PREFIX + "faults", clear_faults),
    ]
