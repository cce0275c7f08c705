"""The checks that make every hostile JSON body a 400, never a 500 (issue 11).

``shared.inbound.jsonbody`` is the one parser every endpoint uses; this module holds its
rules:

- **depth** (:data:`MAX_DEPTH`): counted over the raw bytes, strings skipped, *before*
  ``json.loads`` or anything else recursive runs (``NestedTooDeep``);
- **non-finite numbers**: ``NaN``, ``Infinity`` and numbers that overflow to infinity
  such as ``1e400`` (``NonFiniteNumber``): Sentinel's columns cannot hold them;
- **lone surrogates**: ``"\\ud800"`` decodes to a ``str`` that cannot be encoded as
  UTF-8 again (``InvalidText``);
- **duplicate keys** in one object (``DuplicateKey``): JSON leaves the meaning open and
  Python would silently keep the last one.

Each error names the rule, never the value: messages go back to senders and into logs.
"""

from __future__ import annotations

import itertools
import math
import re
from typing import Any

from shared.errors import DuplicateKey, InvalidText, NestedTooDeep, NonFiniteNumber

MAX_DEPTH = 64
"""Deepest nesting of arrays and objects accepted; real webhooks stay well under 20."""

# Escapes are dropped first, so a string is then just quote, non-quotes, quote: linear
# time whatever the input (a single regex with escapes backtracks quadratically on
# unterminated strings full of \").
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_STRING = re.compile(rb'"[^"]*"')
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")
_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
# '[' and '{' open (+1), ']' and '}' close (-1)
_STEPS = [0] * 256
_STEPS[ord("[")] = _STEPS[ord("{")] = 1
_STEPS[ord("]")] = _STEPS[ord("}")] = -1


def check_depth(body: bytes, limit: int = MAX_DEPTH) -> None:
    """Refuse a body nested deeper than ``limit``, from its bytes alone (no recursion).

    Raises:
        NestedTooDeep: some array or object lies more than ``limit`` levels deep.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return  # too few brackets to be too deep: the common case costs two counts
    brackets = _NOT_BRACKET.sub(b"", _STRING.sub(b"", _ESCAPE.sub(b"", body)))
    if max(itertools.accumulate(map(_STEPS.__getitem__, brackets)), default=0) > limit:
        raise NestedTooDeep(f"The body is nested more than {limit} levels deep.")


def refuse_constant(name: str) -> float:
    """``parse_constant`` hook: NaN and Infinity are not JSON numbers."""
    raise NonFiniteNumber("The body holds NaN or Infinity, which JSON does not allow.")


def finite_float(text: str) -> float:
    """``parse_float`` hook: a number too large for a double (``1e400``) is refused."""
    value = float(text)
    if not math.isfinite(value):
        raise NonFiniteNumber("The body holds a number too large to store.")
    return value


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook``: an object naming the same key twice is refused."""
    document = dict(pairs)
    if len(document) != len(pairs):
        raise DuplicateKey("An object in the body names the same key more than once.")
    return document


def check_text(body: bytes, document: Any) -> None:
    """Refuse a document holding a lone surrogate (only ``\\uD8xx``-style escapes can).

    Raises:
        InvalidText: a string or key holds half of a surrogate pair.
    """
    if may_hold_surrogates(body):
        check_strings(document)


def may_hold_surrogates(body: bytes) -> bool:
    """Whether ``body`` has a surrogate escape at all (one scan of the bytes)."""
    return _ESCAPED_SURROGATE.search(body) is not None


def check_strings(document: Any) -> None:
    """Refuse a decoded document holding a lone surrogate in a string or key.

    Raises:
        InvalidText: a string or key holds half of a surrogate pair.
    """
    pending = [document]
    while pending:  # iterative: no recursion, whatever the shape
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidText(
                    "The body holds a lone UTF-16 surrogate (\\uD800-\\uDFFF), not text."
                ) from None
