"""Run KQL over rows offline: the emulators' engine (local/emulators/kql_engine.py)."""

from __future__ import annotations

from local.emulators.kql_engine import connect, run

__all__ = ["connect", "run"]
