"""The SDK's own chunking, reproduced so benchmarks can set it beside :func:`pack`.

``azure-monitor-ingestion`` 1.1.0 (reference: logs-ingestion.md, section 6) measures
each record as ``len(json.dumps(record).encode("utf-8"))`` (default separators, ASCII
escapes), starts a new chunk when adding a record would take the sum over 1,048,576
bytes, sends a record larger than that alone, and gzips ``json.dumps(chunk)`` at zlib's
default level. This module repeats that rule (not the SDK's code) and nothing more.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

from shared.delivery.packer import Stats

SDK_MAX_CHUNK_BYTES = 1_048_576
"""The SDK's ``MAX_CHUNK_SIZE_BYTES``: 1 MiB of *uncompressed* JSON per chunk."""

Row = Mapping[str, Any]


def sdk_default_chunks(
    rows: Iterable[Row], *, max_chunk_bytes: int = SDK_MAX_CHUNK_BYTES
) -> list[list[Row]]:
    """Split ``rows`` the way the SDK's list upload does.

    Args:
        rows: the rows, in order.
        max_chunk_bytes: the most JSON bytes (summed per record) in a chunk.

    Returns:
        The chunks, in order; each is one request. A record over the limit is a chunk
        of its own (and would get a 413).
    """
    chunks: list[list[Row]] = []
    current: list[Row] = []
    size = 0
    for row in rows:
        row_size = len(json.dumps(row).encode("utf-8"))
        if size + row_size <= max_chunk_bytes:
            current.append(row)
            size += row_size
            continue
        if current:
            chunks.append(current)
        current, size = [row], row_size
    if current:
        chunks.append(current)
    return chunks


def sdk_default_body(chunk: Iterable[Row]) -> bytes:
    """The gzip body the SDK sends for ``chunk``."""
    compressor = zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
    return compressor.compress(json.dumps(list(chunk)).encode("utf-8")) + compressor.flush()


def sdk_default_stats(rows: Iterable[Row]) -> Stats:
    """Requests, rows, wire bytes and raw bytes of the SDK's default list upload."""
    chunks = sdk_default_chunks(rows)
    raw = [json.dumps(chunk).encode("utf-8") for chunk in chunks]
    return Stats(
        requests=len(chunks),
        rows=sum(map(len, chunks)),
        wire_bytes=sum(len(sdk_default_body(chunk)) for chunk in chunks),
        raw_bytes=sum(map(len, raw)),
    )
