"""Small helpers for the host tests: plain HTTP calls and the records the sample app wrote."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Reply:
    """What came back from one HTTP call."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> Reply:
    """One HTTP request; error statuses are returned, not raised."""
    # Only the tests' own http://127.0.0.1 URLs come through here.
    request = urllib.request.Request(  # noqa: S310
        url, data=body, method=method, headers=dict(headers or {})
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return Reply(response.status, dict(response.headers.items()), response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Reply(error.code, dict(error.headers.items()), error.read())


def read_records(out_dir: Path, kind: str) -> list[dict[str, Any]]:
    """The JSON lines the sample app wrote for ``kind`` ("queue" or "timer")."""
    path = out_dir / f"{kind}.jsonl"
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]
