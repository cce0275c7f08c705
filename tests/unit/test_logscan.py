"""The end-of-run secret scan finds what it is meant to find."""

from __future__ import annotations

import logging
from pathlib import Path

from tests import logscan
from tests.logscan import CapturingHandler, find_leaks


def test_a_secret_in_a_record_or_file_is_found(tmp_path: Path) -> None:
    """A planted secret is reported by place, without repeating the secret."""
    handler = CapturingHandler()
    logger = logging.getLogger("tests.logscan.sample")
    logger.addHandler(handler)
    try:
        logger.warning("token is %s", "s3cr3t-value-123")
        logger.warning("nothing here")
    finally:
        logger.removeHandler(handler)
    log_file = tmp_path / "host.log"
    log_file.write_text("a line with s3cr3t-value-123 in it\n")
    leaks = find_leaks({"s3cr3t-value-123"}, handler.texts(), [log_file])
    assert len(leaks) == 2
    assert all("s3cr3t-value-123" not in leak for leak in leaks)


def test_clean_logs_have_no_leaks(tmp_path: Path) -> None:
    """No secret, no finding."""
    assert find_leaks({"s3cr3t-value-123"}, ["all fine"], [tmp_path / "missing.log"]) == []


def test_every_log_file_under_a_root_is_scanned(tmp_path: Path) -> None:
    """A host log nobody registered is still found under the session's temporary root."""
    nested = tmp_path / "run" / "state"
    nested.mkdir(parents=True)
    (nested / "host.log").write_text("Authorization Secret s3cr3t-value-123")
    logscan.LOG_ROOTS.append(tmp_path)
    try:
        assert nested / "host.log" in logscan.all_log_files()
        assert find_leaks({"s3cr3t-value-123"}, [], logscan.all_log_files())
    finally:
        logscan.LOG_ROOTS.remove(tmp_path)
        (nested / "host.log").unlink()
