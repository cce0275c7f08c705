"""Route templates as the Functions host reads them (ASP.NET Core routing), pure.

Supported: literal segments (matched case-insensitively), ``{name}``, optional ``{name?}``,
defaults ``{name=value}``, catch-all ``{*rest}`` / ``{**rest}`` as the last segment, and
constraints ``{id:int}``. The constraints ``int``, ``long``, ``bool``, ``guid``, ``alpha``,
``decimal``, ``double`` and ``float`` are enforced; any other constraint (``min(1)``,
``regex(...)``) is accepted and ignored. A trailing slash in the request path is ignored.
Parameter values are percent-decoded after matching, so ``%2F`` stays inside one value.
A :class:`RouteTable` remembers the outcome for the paths it saw last (a path always
matches the same way), so a busy route costs one dictionary lookup, not a regex per template.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import unquote

T = TypeVar("T")

_PARAMETER = re.compile(r"\{([^{}]+)\}")
_NUMBER = re.compile(r"-?\d+")
_REAL = re.compile(r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def _is_guid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


_CONSTRAINTS: dict[str, Callable[[str], bool]] = {
    "int": lambda value: _NUMBER.fullmatch(value) is not None and abs(int(value)) < 2**31,
    "long": lambda value: _NUMBER.fullmatch(value) is not None and abs(int(value)) < 2**63,
    "bool": lambda value: value.lower() in {"true", "false"},
    "guid": _is_guid,
    "alpha": lambda value: value.isascii() and value.isalpha(),
    "decimal": lambda value: _REAL.fullmatch(value) is not None,
    "double": lambda value: _REAL.fullmatch(value) is not None,
    "float": lambda value: _REAL.fullmatch(value) is not None,
}

# Segment ranks for precedence: lower is tried first, like ASP.NET's inbound precedence.
_LITERAL, _CONSTRAINED, _PLAIN, _OPTIONAL, _CATCH_ALL = range(5)


class RouteTemplateError(ValueError):
    """A route template this host cannot read."""


@dataclass(frozen=True)
class _Parameter:
    name: str
    group: str
    optional: bool
    catch_all: bool
    default: str | None
    checks: tuple[Callable[[str], bool], ...]


@dataclass(frozen=True)
class RouteTemplate:
    """One compiled route template."""

    template: str
    pattern: re.Pattern[str]
    parameters: tuple[_Parameter, ...]
    precedence: tuple[int, ...]

    def match(self, raw_path: str) -> dict[str, str] | None:
        """The route parameters if ``raw_path`` (percent-encoded, no query) matches, else None."""
        path = raw_path.strip("/")
        found = self.pattern.fullmatch(path)
        if found is None:
            return None
        values: dict[str, str] = {}
        for parameter in self.parameters:
            raw = found.group(parameter.group)
            if raw is None or raw == "":
                if parameter.default is not None:
                    values[parameter.name] = parameter.default
                continue
            value = unquote(raw)
            if not all(check(value) for check in parameter.checks):
                return None
            values[parameter.name] = value
        return values


def compile_route(template: str) -> RouteTemplate:
    """Compile a route template such as ``"api/fig/{event}"``.

    Args:
        template: The full template, route prefix included, without a leading slash.

    Returns:
        The compiled template.

    Raises:
        RouteTemplateError: A catch-all that is not last, or an unbalanced brace.
    """
    segments = [segment for segment in template.strip("/").split("/") if segment]
    pieces: list[str] = []
    parameters: list[_Parameter] = []
    precedence: list[int] = []
    for index, segment in enumerate(segments):
        if segment.count("{") != segment.count("}"):
            raise RouteTemplateError(f"unbalanced braces in route {template!r}")
        whole = _PARAMETER.fullmatch(segment)
        if whole is None:
            pieces.append(_compile_complex_segment(segment, parameters, template))
            precedence.append(_CONSTRAINED if parameters and "{" in segment else _LITERAL)
            continue
        parameter = _parse_parameter(whole.group(1), len(parameters))
        if parameter.catch_all and index != len(segments) - 1:
            raise RouteTemplateError(f"catch-all must be the last segment in {template!r}")
        parameters.append(parameter)
        precedence.append(_rank(parameter))
        pieces.append(_segment_pattern(parameter, first=index == 0))
    pattern = "".join(pieces).removeprefix("/")
    return RouteTemplate(
        template, re.compile(pattern, re.IGNORECASE), tuple(parameters), tuple(precedence)
    )


def _segment_pattern(parameter: _Parameter, *, first: bool) -> str:
    separator = "" if first else "/"
    body = ".*" if parameter.catch_all else "[^/]+"
    capture = f"(?P<{parameter.group}>{body})"
    if parameter.optional or parameter.catch_all or parameter.default is not None:
        return f"(?:{separator}{capture})?"
    return f"{separator}{capture}"


def _compile_complex_segment(segment: str, parameters: list[_Parameter], template: str) -> str:
    # A literal segment, or literals mixed with parameters such as "{name}.{ext}".
    parts = ["/"]
    position = 0
    for found in _PARAMETER.finditer(segment):
        parts.append(re.escape(segment[position : found.start()]))
        parameter = _parse_parameter(found.group(1), len(parameters))
        if parameter.catch_all:
            raise RouteTemplateError(f"catch-all inside a segment in {template!r}")
        parameters.append(parameter)
        parts.append(f"(?P<{parameter.group}>[^/]+?)")
        position = found.end()
    parts.append(re.escape(segment[position:]))
    return "".join(parts)


def _parse_parameter(text: str, index: int) -> _Parameter:
    catch_all = text.startswith("*")
    text = text.lstrip("*")
    default: str | None = None
    if "=" in text:
        text, default = text.split("=", 1)
    optional = text.endswith("?")
    text = text.removesuffix("?")
    name, *constraints = text.split(":")
    checks = tuple(
        _CONSTRAINTS[constraint.lower()]
        for constraint in constraints
        if constraint.lower() in _CONSTRAINTS
    )
    return _Parameter(name, f"p{index}", optional, catch_all, default, checks)


def _rank(parameter: _Parameter) -> int:
    if parameter.catch_all:
        return _CATCH_ALL
    if parameter.optional or parameter.default is not None:
        return _OPTIONAL
    return _CONSTRAINED if parameter.checks else _PLAIN


DEFAULT_CACHE_SIZE = 1024


class RouteTable(Generic[T]):
    """Route templates with their targets, tried most specific first.

    Args:
        routes: (template, target) pairs.
        cache_size: How many distinct paths' outcomes to remember (0: none).
    """

    def __init__(
        self, routes: Iterable[tuple[str, T]], *, cache_size: int = DEFAULT_CACHE_SIZE
    ) -> None:
        compiled = [(compile_route(template), target) for template, target in routes]
        # sorted() is stable: among equal precedence, registration order decides.
        self._routes: Sequence[tuple[RouteTemplate, T]] = sorted(
            compiled, key=lambda item: item[0].precedence
        )
        self._cache_size = cache_size
        self._cache: dict[str, tuple[tuple[T, dict[str, str]], ...]] = {}

    def match(self, raw_path: str) -> list[tuple[T, dict[str, str]]]:
        """Every target whose template matches ``raw_path``, best first, with its params."""
        found = self._cache.get(raw_path)
        if found is None:
            found = tuple(self._match_all(raw_path))
            if self._cache_size:
                if len(self._cache) >= self._cache_size:
                    # Bounded whatever paths clients send: forget the oldest entry.
                    del self._cache[next(iter(self._cache))]
                self._cache[raw_path] = found
        # Fresh dicts: a caller (or the function) may change the params it is given.
        return [(target, dict(params)) for target, params in found]

    def _match_all(self, raw_path: str) -> list[tuple[T, dict[str, str]]]:
        matches: list[tuple[T, dict[str, str]]] = []
        for route, target in self._routes:
            params = route.match(raw_path)
            if params is not None:
                matches.append((target, params))
        return matches
