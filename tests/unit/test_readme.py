"""The README keeps its promises: the two commands on top, and the settings table complete."""

from __future__ import annotations

from pathlib import Path

from shared.config.settings import SETTINGS

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_run_and_test() -> None:
    """A newcomer sees `make run` and `make test` first."""
    top = README.splitlines()[:6]
    assert any(line.startswith("make run") for line in top)
    assert any(line.startswith("make test") for line in top)


def test_every_setting_is_in_the_readme_table() -> None:
    """Each setting the code reads has a row in the README's settings table."""
    rows = {
        line.split("|")[1].strip().strip("`")
        for line in README.splitlines()
        if line.startswith("| `")
    }
    missing = sorted(s.name for s in SETTINGS if s.name not in rows)
    assert missing == []
