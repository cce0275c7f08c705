"""HTTP POSTs to incident destinations (SIGNL4's inbound webhook, signed webhooks).

Built on the standard library's ``http.client`` on purpose: SIGNL4's only credential is
the team secret *in the URL path*, and urllib3 (under requests and azure-core) logs every
request path at DEBUG. Nothing here logs a URL, a header or a body; failures name only
the destination, the status and the error class.

- One timeout for connect and read (``timeout``, 15 s: the Standard Webhooks guidance is
  15-30 s). Redirects are not followed (a 3xx is the caller's permanent failure).
- TLS is verified against the system roots, or ``ca_file`` when given (the composition
  passes ``REQUESTS_CA_BUNDLE``, the same variable azure-core's transport honours).
- Calls are sync and run in a worker thread.
"""

from __future__ import annotations

import asyncio
import http.client
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.errors import UpstreamUnavailable

DEFAULT_TIMEOUT_SECONDS = 15.0
MAX_ANSWER_BYTES = 64 * 1024
USER_AGENT = "sentinel-bridge"


@dataclass(frozen=True)
class Answer:
    """A destination's answer: status and any ``Retry-After`` in seconds."""

    status: int
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        """Any 2xx."""
        return 200 <= self.status < 300


class HttpPoster:
    """POSTs JSON bodies; see the module docstring."""

    def __init__(self, *, ca_file: str | None = None, timeout: float = DEFAULT_TIMEOUT_SECONDS):
        self._context = ssl.create_default_context(cafile=ca_file or None)
        self._timeout = timeout

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        """POST ``body`` to ``url``; the answer, whatever its status.

        Raises:
            UpstreamUnavailable: no answer (refused, timed out, TLS failure).
        """
        return await asyncio.to_thread(self._post, url, body, headers)

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise UpstreamUnavailable("destination URL is not https")
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        connection = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=self._timeout, context=self._context
        )
        sent = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            **headers,
        }
        try:
            connection.request("POST", path, body=body, headers=sent)
            response = connection.getresponse()
            response.read(MAX_ANSWER_BYTES)
            return Answer(response.status, _seconds(response.getheader("Retry-After")))
        except (OSError, http.client.HTTPException) as error:
            raise UpstreamUnavailable(f"no answer ({type(error).__name__})") from None
        finally:
            connection.close()


def _seconds(value: str | None) -> float | None:
    if value is None or not value.strip().isdigit():
        return None
    return float(value.strip())
