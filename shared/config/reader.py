"""Reading app settings' text: every problem collected, by feature (pure).

``Settings.from_env`` reads through a :class:`Reader`; the value checks shared by several
settings (URLs, header names, storage names) live here beside it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlparse

from shared.config.catalog import SETTINGS_BY_NAME

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


class Reader:
    """Reads settings, collecting every problem instead of stopping at the first."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self.problems: list[str] = []
        self.feature_problems: dict[str, list[str]] = {}

    def report(self, problem: str, *, feature: str | None = None) -> None:
        """Note ``problem``: the whole bridge's, or only ``feature``'s."""
        if feature is None:
            self.problems.append(problem)
        else:
            self.feature_problems.setdefault(feature, []).append(problem)

    def text(self, name: str, *, feature: str | None = None) -> str:
        spec = SETTINGS_BY_NAME[name]
        value = self._environ.get(name, "").strip()
        if value:
            return value
        if spec.required:
            self.report(f"{name} is not set ({spec.meaning})", feature=feature)
        return spec.default or ""

    def text_or_empty(self, name: str) -> str:
        """The value as set, empty included; the default only when the setting is absent."""
        if name in self._environ:
            return self._environ[name].strip()
        return SETTINGS_BY_NAME[name].default or ""

    def https_url(self, name: str, *, feature: str | None = None) -> str:
        value = self.text(name, feature=feature)
        if value:
            parsed = urlparse(value)
            if parsed.scheme != "https" or not parsed.netloc:
                self.report(f"{name} must be an https:// URL", feature=feature)
        return value

    def boolean(self, name: str) -> bool:
        value = self.text(name).lower()
        if value in _TRUE:
            return True
        if value not in _FALSE:
            self.problems.append(f"{name} must be true or false")
        return False

    def positive_int(self, name: str) -> int:
        value = self.text(name)
        try:
            number = int(value)
        except ValueError:
            number = 0
        if number <= 0:
            self.problems.append(f"{name} must be a positive whole number")
        return number

    def number(
        self,
        name: str,
        *,
        above: float | None = None,
        at_least: float | None = None,
        at_most: float,
    ) -> float:
        value = self.text(name)
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        low_ok = (above is None or number > above) and (at_least is None or number >= at_least)
        if not (low_ok and number <= at_most):  # NaN fails every comparison
            low = f"above {above}" if above is not None else f"at least {at_least}"
            self.problems.append(f"{name} must be a number {low} and at most {at_most:g}")
        return number

    def name_set(self, name: str) -> frozenset[str] | None:
        """A comma list (spaces ignored); the feature that reads it checks the names."""
        names = frozenset(part.strip() for part in self.text(name).split(",") if part.strip())
        return names or None


_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}")


def web_url(reader: Reader, name: str, *, feature: str) -> str:
    """An optional http(s) URL (Kibana may be served over plain HTTP inside a network)."""
    value = reader.text(name, feature=feature)
    parsed = urlparse(value)
    if value and (parsed.scheme not in ("http", "https") or not parsed.netloc):
        reader.report(f"{name} must be an http:// or https:// URL", feature=feature)
    return value


def header_name(reader: Reader, name: str, *, feature: str) -> str:
    """An HTTP header name, lower case (the edge lower-cases the request's header names)."""
    value = reader.text(name, feature=feature)
    if not _HEADER_NAME.fullmatch(value):
        reader.report(f"{name} must be an HTTP header name such as X-Auth-Token", feature=feature)
    return value.lower()


# Queue and container names: 3-63 lower-case letters, digits and single hyphens.
_STORAGE_NAME = re.compile(r"(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*")
_TABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]{2,62}")
# The host names the poison queue "<queue>-poison"; a longer name would get none.
MAX_QUEUE_NAME = 63 - len("-poison")
MAX_BUDGET_HOURS = 168


def storage_name(reader: Reader, name: str, *, max_length: int = 63) -> str:
    value = reader.text(name)
    if not _STORAGE_NAME.fullmatch(value) or len(value) > max_length:
        reader.problems.append(
            f"{name} must be 3-{max_length} lower-case letters, digits and single hyphens"
        )
    return value


def table_name(reader: Reader, name: str) -> str:
    value = reader.text(name)
    if not _TABLE_NAME.fullmatch(value):
        reader.problems.append(f"{name} must be 3-63 letters and digits, starting with a letter")
    return value
