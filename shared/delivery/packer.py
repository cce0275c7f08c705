"""Packing rows into gzip request bodies as full as the service allows *after* compression.

The SDK cuts a chunk at 1 MiB of uncompressed JSON, about 200 KB on the wire, so it
makes about five times the requests the service would take (reference: logs-ingestion.md,
sections 6 and 9). :func:`pack` fills each body up to ``max_body_bytes`` of gzip instead,
and sends a body through the SDK's stream upload (``io.BytesIO(body)``: one request,
``Content-Encoding: gzip`` added because the body starts ``1f 8b``).

How the size bound is kept
--------------------------
Each body is one streaming ``zlib.compressobj(wbits=31)`` (a gzip member: 10-byte header,
a deflate stream, an 8-byte trailer) fed ``[``, then ``row``, ``,row``..., then ``]``.
The builder tracks ``flushed``, the exact size output up to the last ``Z_SYNC_FLUSH``
(after one, everything fed has been output, byte-aligned, with no block open), and
``pending``, the raw bytes fed since. Closing adds at most

    deflate_bound(pending) + CLOSE_RESERVE,  CLOSE_RESERVE = deflate_bound(1) + 8

to ``flushed``: after a flush, the ``]`` is a segment of its own and the trailer is 8
bytes; without one, ``pending`` and the ``]`` form one segment, and ``deflate_bound`` is
subadditive. A flush emits at most ``deflate_bound(pending)`` and sets ``pending`` to 0,
so the sum never grows by flushing. Hence a row of ``n`` bytes is committed without
asking the compressor when

    flushed + deflate_bound(pending + n) + CLOSE_RESERVE <= max_body_bytes.

``deflate_bound(n) = n + n//8 + n//64 + 32`` (0 for 0) bounds what deflate outputs for
``n`` bytes fed between two flush points (the second a sync flush or ``Z_FINISH``), for
any data, level and history. zlib ends a block at least every 16,383 symbols
(``memLevel`` 8) and writes each one the cheapest way it can: stored (5 bytes of
overhead), with fixed codes, or with dynamic codes only when those beat fixed ones.
Fixed codes spend at most 9 bits per input byte (a literal takes 8 or 9; a match of 3
bytes at most 25, a longer one at most 31), plus 10 bits of block header and end code.
So ``n//8`` covers the ninth bit, ``n//64`` the blocks' overhead, and 32 bytes the
rounding, the partial blocks at both ends and the empty stored block (at most 6 bytes)
a sync flush writes. It is zlib's conservative ``deflateBound`` with room for the flush;
``test_packer`` checks it against zlib at every level, on random, repetitive and
incompressible data, and with history before the segment.

When the bound says no, the body is flushed (``flushed`` becomes exact and ``pending``
0) and asked again; when it still says no, the row is compressed on a ``copy()`` of the
compressor and measured exactly, and the copy is kept if it fits. So the bound only
ever decides a "yes", the tail of every body is filled by exact measurement, and the
flushes (a few dozen per body, not one per row) cost a few bytes each: a body of ~1 KB
JSON rows comes out within 0.2 % of a one-shot ``gzip`` of the same rows.

A row that does not fit a body of its own is the one thing taken out, as an
:class:`OversizedRow`: exactly when the gzip body holding that row alone is over
``max_body_bytes``, or its JSON plus ``[]`` is over ``max_decompressed_bytes``.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.delivery._json import compact_json_bytes

SERVICE_MAX_BODY_BYTES = 1_048_576
"""What the service takes per request, compressed or not (the 413 message names it)."""

DEFAULT_MAX_BODY_BYTES = 1_000_000
"""Our default cap: 48,576 bytes (4.6 %) under the service's limit.

The documented limit is "1 MB" and only a 413 message shows it is 1,048,576 bytes, so
the decimal reading keeps working if the service, a proxy in front of it or a sovereign
cloud ever counts the other way; other shippers cap at 1,000,000 too
(cluster-logging-operator) or lower (Logstash: 1 MiB - 10,000). It costs about one
extra request in 21.
"""

DEFAULT_MAX_DECOMPRESSED_BYTES = 50 * 1024 * 1024
"""The service's cap on a decompressed body (``PayloadSizeLimitExceeded``)."""

DEFAULT_LEVEL = 6
"""zlib's default level, as the SDK uses: most of level 9's ratio at a fraction of its cost."""

_GZIP_WBITS = 16 + zlib.MAX_WBITS  # a gzip member around a deflate stream, 32 KiB window
_GZIP_TRAILER_BYTES = 8  # CRC-32 and ISIZE
_CLOSE = b"]"


def deflate_bound(raw_bytes: int) -> int:
    """The most deflate outputs for ``raw_bytes`` of input fed between two flush points.

    Holds for any data, level and history, for a segment ended by one ``Z_SYNC_FLUSH``
    or by ``Z_FINISH`` (the gzip trailer not included); see the module docstring.
    """
    if raw_bytes == 0:
        return 0
    return raw_bytes + (raw_bytes >> 3) + (raw_bytes >> 6) + 32


CLOSE_RESERVE = deflate_bound(1) + _GZIP_TRAILER_BYTES
"""Room kept for closing a flushed body: the ``]``, the final block, the trailer."""


@dataclass(frozen=True)
class PackedBody:
    """One request body: a complete gzip member holding ``rows`` as a JSON array."""

    body: bytes
    rows: list[dict[str, Any]]
    raw_bytes: int
    """The JSON array's size before compression."""


@dataclass(frozen=True)
class OversizedRow:
    """A row no request can carry, with its position in the input and why."""

    index: int
    row: dict[str, Any]
    reason: str


@dataclass(frozen=True)
class Stats:
    """Counts for comparing packings: requests, rows, bytes on the wire and before gzip."""

    requests: int
    rows: int
    wire_bytes: int
    raw_bytes: int


@dataclass(frozen=True)
class PackResult:
    """What :func:`pack` made: the bodies to send, in order, and the rows left out."""

    bodies: list[PackedBody]
    oversized: list[OversizedRow]

    @property
    def stats(self) -> Stats:
        """Requests, rows, wire bytes and raw bytes over all bodies."""
        return Stats(
            requests=len(self.bodies),
            rows=sum(len(b.rows) for b in self.bodies),
            wire_bytes=sum(len(b.body) for b in self.bodies),
            raw_bytes=sum(b.raw_bytes for b in self.bodies),
        )


def pack(
    rows: Iterable[Mapping[str, Any]],
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES,
    level: int = DEFAULT_LEVEL,
) -> PackResult:
    """Pack ``rows``, each encoded here; see :func:`pack_encoded`."""
    return pack_encoded(
        ((row, compact_json_bytes(row)) for row in rows),
        max_body_bytes=max_body_bytes,
        max_decompressed_bytes=max_decompressed_bytes,
        level=level,
    )


def pack_encoded(
    encoded_rows: Iterable[tuple[Mapping[str, Any], bytes]],
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES,
    level: int = DEFAULT_LEVEL,
) -> PackResult:
    """Pack rows, in order, into as few gzip bodies as the limits allow.

    Args:
        encoded_rows: each row (a JSON-ready mapping: strings, numbers, booleans, None,
            lists, dicts) with its compact JSON from :mod:`shared.delivery._json`; use
            :func:`shared.delivery.fields.fit_row_encoded`, which fits and encodes once.
        max_body_bytes: the largest body, in bytes of gzip on the wire.
        max_decompressed_bytes: the largest JSON array a body may decompress to.
        level: the zlib compression level, 1 (fastest) to 9 (smallest).

    Returns:
        The bodies, whose rows in order are the input rows minus the oversized ones, and
        the oversized rows with their input index. Every body is at most
        ``max_body_bytes`` long and decompresses to at most ``max_decompressed_bytes``.

    Raises:
        ValueError: a limit is not positive, ``level`` is not 1-9, or a row holds NaN or
            an infinity (not JSON; the service would reject the whole request).
        TypeError: a row holds a value JSON cannot represent, such as a datetime.
    """
    if max_body_bytes < 1 or max_decompressed_bytes < 1:
        raise ValueError("size limits must be positive")
    if not 1 <= level <= 9:
        raise ValueError("level must be between 1 and 9")
    limits = _Limits(max_body_bytes, max_decompressed_bytes)
    bodies: list[PackedBody] = []
    oversized: list[OversizedRow] = []
    builder = _BodyBuilder(level, limits)
    for index, (row, data) in enumerate(encoded_rows):
        record = dict(row)
        if len(data) + 2 > max_decompressed_bytes:
            reason = (
                f"{len(data):,} bytes of JSON; a request may decompress to at most "
                f"{max_decompressed_bytes:,} bytes"
            )
            oversized.append(OversizedRow(index, record, reason))
            continue
        if builder.try_add(data, record):
            continue
        if builder.rows:
            bodies.append(builder.close())
            builder = _BodyBuilder(level, limits)
            if builder.try_add(data, record):
                continue
        # Not even an empty body has room for this row and whatever may follow it.
        single = builder.single(data, record)
        if len(single.body) <= max_body_bytes:
            bodies.append(single)
        else:
            reason = (
                f"{len(single.body):,} bytes gzipped on its own; a request body may be "
                f"at most {max_body_bytes:,} bytes (the service takes "
                f"{SERVICE_MAX_BODY_BYTES:,})"
            )
            oversized.append(OversizedRow(index, record, reason))
    if builder.rows:
        bodies.append(builder.close())
    return PackResult(bodies, oversized)


@dataclass(frozen=True)
class _Limits:
    body: int
    decompressed: int


class _BodyBuilder:
    """One body being filled; see the module docstring for the bookkeeping."""

    def __init__(self, level: int, limits: _Limits) -> None:
        self._limits = limits
        self._zlib = zlib.compressobj(level, zlib.DEFLATED, _GZIP_WBITS)
        self._out: list[bytes] = []
        self._size = 0  # bytes output so far
        self._emit(self._zlib.compress(b"[") + self._zlib.flush(zlib.Z_SYNC_FLUSH))
        self._flushed = self._size  # exact output at the last sync flush
        self._pending = 0  # raw bytes fed since the last sync flush
        self._raw = 1  # raw bytes fed in all: the "[" so far
        self.rows: list[dict[str, Any]] = []

    def try_add(self, data: bytes, record: dict[str, Any]) -> bool:
        """Add the row if the body stays within both limits once closed; say whether."""
        piece = b"," + data if self.rows else data
        if self._raw + len(piece) + len(_CLOSE) > self._limits.decompressed:
            return False
        if not self._bound_fits(len(piece)) and self._pending:
            self._emit(self._zlib.flush(zlib.Z_SYNC_FLUSH))
            self._flushed, self._pending = self._size, 0
        if self._bound_fits(len(piece)):
            self._emit(self._zlib.compress(piece))
            self._pending += len(piece)
        else:
            trial = self._zlib.copy()
            output = trial.compress(piece) + trial.flush(zlib.Z_SYNC_FLUSH)
            if not self._bound_fits(0, flushed=self._size + len(output)):
                return False
            self._zlib = trial
            self._emit(output)
            self._flushed = self._size
        self._raw += len(piece)
        self.rows.append(record)
        return True

    def single(self, data: bytes, record: dict[str, Any]) -> PackedBody:
        """The complete body holding only this row (this builder must still be empty)."""
        trial = self._zlib.copy()
        tail = trial.compress(data) + trial.compress(_CLOSE) + trial.flush(zlib.Z_FINISH)
        body = b"".join([*self._out, tail])
        return PackedBody(body, [record], self._raw + len(data) + len(_CLOSE))

    def close(self) -> PackedBody:
        """The finished body; the builder must not be used afterwards."""
        self._emit(self._zlib.compress(_CLOSE) + self._zlib.flush(zlib.Z_FINISH))
        return PackedBody(b"".join(self._out), self.rows, self._raw + len(_CLOSE))

    def _bound_fits(self, extra: int, *, flushed: int | None = None) -> bool:
        base = self._flushed if flushed is None else flushed
        return base + deflate_bound(self._pending + extra) + CLOSE_RESERVE <= self._limits.body

    def _emit(self, output: bytes) -> None:
        if output:
            self._out.append(output)
            self._size += len(output)
