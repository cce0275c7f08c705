"""``LocalHostProcess``: ``python -m local.host`` as a subprocess, for tests and benchmarks."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self

from local.host.ports import LOOPBACK, free_port
from local.lifecycle import Service

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
_START_ATTEMPTS = 3
_PORT_TAKEN = "address already in use"


class HostStartError(RuntimeError):
    """The host process exited or did not become ready in time."""


class LocalHostProcess(Service):
    """One local functions host in a subprocess, on 127.0.0.1.

    Args:
        app: ``module:attr`` of the FunctionApp, importable from ``cwd``.
        env: Variables added to this process's environment for the host; they win over
            the settings file, as real app settings would.
        port: HTTP port; a free one when 0.
        settings_path: A local.settings.json-format file, or None for none.
        keys_path: The function keys file; a fresh one in a temporary directory when None.
        host_json: host.json to honour; the repository's when None.
        log_path: Where the host's stdout and stderr go; a temporary file when None.
        cwd: The working directory (the app's root); the repository root by default.
        startup_timeout: Seconds to wait for ``/admin/host/status``.
    """

    def __init__(
        self,
        app: str = "function_app:app",
        *,
        env: Mapping[str, str] | None = None,
        port: int = 0,
        settings_path: Path | None = None,
        keys_path: Path | None = None,
        host_json: Path | None = None,
        log_path: Path | None = None,
        cwd: Path = REPO_ROOT,
        startup_timeout: float = 30.0,
    ) -> None:
        self.app = app
        self.env = dict(env or {})
        self._fixed_port = port != 0
        self.port = port
        # A scratch directory only for what the caller did not place; close() removes it.
        self._temp_dir: tempfile.TemporaryDirectory[str] | None = None
        if keys_path is None or log_path is None:
            self._temp_dir = tempfile.TemporaryDirectory(prefix="local-host-")
        scratch = Path(self._temp_dir.name) if self._temp_dir is not None else Path()
        self.settings_path = settings_path
        self.keys_path = keys_path or scratch / "function-keys.json"
        self.host_json = host_json or REPO_ROOT / "host.json"
        self.log_path = log_path or scratch / "host.log"
        self.cwd = cwd
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def master_key(self) -> str:
        """The master key from the keys file."""
        key: str = self._keys()["masterKey"]
        return key

    @property
    def function_key(self) -> str:
        """The ``default`` host function key from the keys file."""
        key: str = self._keys()["functionKeys"]["default"]
        return key

    @property
    def pid(self) -> int | None:
        """The host process's id while it runs (for measurements such as peak RSS)."""
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        """Whether the host process is alive."""
        return self._process is not None and self._process.poll() is None

    def url(self, path: str) -> str:
        """An absolute URL for ``path`` (e.g. ``/api/health``) on this host."""
        return f"{self.base_url}/{path.lstrip('/')}"

    def logs(self) -> str:
        """Everything the host has logged so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def start(self) -> Self:
        """Start the host and wait until ``/admin/host/status`` answers 200.

        Raises:
            HostStartError: The process exited, or was not ready within the timeout.
        """
        if self.running:
            return self
        attempts = 1 if self._fixed_port else _START_ATTEMPTS
        for attempt in range(1, attempts + 1):
            if not self._fixed_port and (attempt > 1 or not self.port):
                # A port chosen free can be taken before the host binds it: choose again.
                self.port = free_port()
            log_offset = self._log_size()
            self._launch()
            if self._wait_ready():
                return self
            if _PORT_TAKEN not in self.logs()[log_offset:]:
                break
        raise HostStartError(
            f"local host did not start; log {self.log_path}:\n{self.logs()[-3000:]}"
        )

    def stop(self, timeout: float = 40.0) -> int | None:
        """Stop gracefully with SIGTERM; SIGKILL if it has not exited within ``timeout``.

        Returns:
            The exit status, or None if it was not running.
        """
        return self._signal(signal.SIGTERM, timeout)

    def kill(self) -> int | None:
        """Kill at once with SIGKILL, as a crash or a scale-in would."""
        return self._signal(signal.SIGKILL, 10.0)

    def restart(self) -> None:
        """Stop gracefully, then start again on the same port with the same keys."""
        self.stop()
        fixed = self._fixed_port
        self._fixed_port = True
        try:
            self.start()
        finally:
            self._fixed_port = fixed

    def close(self) -> None:
        """Stop the host and remove its scratch directory, if it made one."""
        self.stop()
        if self._temp_dir is not None:
            self._temp_dir.cleanup()
            self._temp_dir = None

    def _log_size(self) -> int:
        return len(self.logs())

    def _launch(self) -> None:
        command = [
            sys.executable,
            "-m",
            "local.host",
            "--app",
            self.app,
            "--port",
            str(self.port),
            "--settings",
            str(self.settings_path) if self.settings_path is not None else "",
            "--keys",
            str(self.keys_path),
            "--host-json",
            str(self.host_json),
        ]
        environment = {**os.environ, **self.env, "PYTHONUNBUFFERED": "1"}
        # local.host must be importable even when the app lives elsewhere.
        environment["PYTHONPATH"] = os.pathsep.join(
            part for part in (str(REPO_ROOT), environment.get("PYTHONPATH", "")) if part
        )
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log_file:
            self._process = subprocess.Popen(
                command,
                cwd=self.cwd,
                env=environment,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + self.startup_timeout
        status_url = self.url("/admin/host/status")
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                self._process = None
                return False
            try:
                # A fixed http://127.0.0.1 URL built above, never user input.
                with urllib.request.urlopen(status_url, timeout=1.0) as response:  # noqa: S310
                    if response.status == 200:
                        return True
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        self._signal(signal.SIGKILL, 10.0)
        return False

    def _signal(self, signum: signal.Signals, timeout: float) -> int | None:
        process, self._process = self._process, None
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signum)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                logger.warning("local host ignored %s; killing it", signum.name)
                process.kill()
                process.wait()
        return process.returncode

    def _keys(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.keys_path.read_text())
        return document
