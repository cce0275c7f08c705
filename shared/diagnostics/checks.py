"""What a health check reports, and the report of them all (used by every check module)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

ROLE_PROPAGATION = "new role assignments take up to 30 minutes to apply"


@dataclass(frozen=True)
class Check:
    """One health check's outcome."""

    name: str
    ok: bool
    detail: str
    action: str | None = None


@dataclass(frozen=True)
class HealthReport:
    """All checks; healthy only when every check passed. ``delivery`` is information only:
    the retry queue's depth and oldest age, and the dead-letter count."""

    checks: tuple[Check, ...]
    delivery: dict[str, Any] | None = None

    @property
    def healthy(self) -> bool:
        """True when every check passed."""
        return all(check.ok for check in self.checks)

    def as_json(self) -> dict[str, Any]:
        """The response body."""
        return {
            "status": "healthy" if self.healthy else "unhealthy",
            "checks": [
                {k: v for k, v in asdict(check).items() if v is not None} for check in self.checks
            ],
            **({"delivery": self.delivery} if self.delivery is not None else {}),
        }
