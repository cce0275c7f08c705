"""Looking for secrets in logs: a capturing handler and the scan itself."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from pathlib import Path


class CapturingHandler(logging.Handler):
    """Keeps every formatted record (message and traceback) of the run."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self._texts: list[str] = []
        self._guard = threading.Lock()
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # noqa: BLE001 - a broken record must not break the run
            text = repr(record.msg)
        with self._guard:
            self._texts.append(text)

    def texts(self) -> list[str]:
        with self._guard:
            return list(self._texts)


def find_leaks(secrets: Iterable[str], texts: Iterable[str], files: Iterable[Path]) -> list[str]:
    """Where a secret appears: 'log record N' or a file path, never the secret itself."""
    wanted = [s for s in secrets if len(s) >= 8]  # short values would match by chance
    leaks = [
        f"log record {index} ({text[:40]!r}...)"
        for index, text in enumerate(texts)
        if any(secret in text for secret in wanted)
    ]
    for path in files:
        if path.exists():
            content = path.read_text(encoding="utf-8", errors="replace")
            leaks += [f"{path}" for secret in wanted if secret in content][:1]
    return leaks


HANDLER = CapturingHandler()
SECRETS: set[str] = set()
LOG_FILES: list[Path] = []
LOG_ROOTS: list[Path] = []


def all_log_files() -> list[Path]:
    """The registered log files, and every ``*.log`` under a registered root (the session's
    temporary directory, where every local host, ``local.run`` and emulator writes its logs)."""
    found = [path for root in LOG_ROOTS if root.exists() for path in root.rglob("*.log")]
    return list(dict.fromkeys([*LOG_FILES, *found]))


def remember_secret(value: str) -> str:
    """Register a secret (or hash) that must never appear in a log; returns it."""
    SECRETS.add(value)
    return value


def remember_log_file(path: Path) -> None:
    """Register a log file (e.g. the local host's) for the end-of-run secret scan."""
    LOG_FILES.append(path)
