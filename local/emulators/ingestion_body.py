"""Reading and decoding a Logs Ingestion request body within the service's limits.

Limits (reference: logs-ingestion.md section 2): 1,048,576 bytes on the wire, compressed or
not (confirmed, with the 413 message); 50 MiB once decompressed (``PayloadSizeLimitExceeded``,
from a non-Microsoft source).
"""

from __future__ import annotations

import zlib

from aiohttp import web

MAX_REQUEST_BYTES = 1_048_576
MAX_DECOMPRESSED_BYTES = 50 * 1024 * 1024


class Refusal(Exception):
    """Ends handling of an upload with an error answer; never escapes the handler."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def too_long_message(length: int) -> str:
    """The service's 413 ContentLengthLimitExceeded message (confirmed text)."""
    return (
        f"Maximum allowed content length: {MAX_REQUEST_BYTES} bytes (1 MB). "
        f"Provided content length: {length} bytes."
    )


async def read_body(request: web.Request, limit: int = MAX_REQUEST_BYTES) -> bytes:
    """Read the body, refusing it with 413 once it passes ``limit`` bytes on the wire.

    A declared Content-Length is checked before this is called; this also bounds chunked
    bodies, whose "provided content length" is the bytes read when the limit was passed
    (an assumption: the service's answer to a long chunked body is not documented).
    """
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.content.iter_any():
        total += len(chunk)
        if total > limit:
            raise Refusal(413, "ContentLengthLimitExceeded", too_long_message(total))
        chunks.append(chunk)
    return b"".join(chunks)


def decode_body(wire: bytes, content_encoding: str) -> bytes:
    """Undo ``Content-Encoding: gzip``, refusing bodies over 50 MiB once inflated (413)."""
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        return wire
    if encoding != "gzip":
        raise Refusal(400, "InvalidPayload", f"Content-Encoding {encoding} is not supported.")
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        # max_length bounds memory: a small gzip bomb cannot expand past the limit here.
        body = inflater.decompress(wire, MAX_DECOMPRESSED_BYTES + 1)
    except zlib.error as exc:
        raise Refusal(400, "InvalidPayload", "The gzip body cannot be decompressed.") from exc
    if len(body) > MAX_DECOMPRESSED_BYTES:
        message = f"Decompressed payload exceeds {MAX_DECOMPRESSED_BYTES} bytes."
        raise Refusal(413, "PayloadSizeLimitExceeded", message)
    if not inflater.eof:
        raise Refusal(400, "InvalidPayload", "The gzip body is truncated.")
    return body
