"""Every webhook source, built alone from its own settings, so one bad source stays alone.

A source whose settings are wrong (a bad header name, an unknown Fig event type, an
``INGEST_SOURCES`` entry naming a stream without a schema) raises ``FeatureOff`` for its
own requests (503 ``FeatureNotConfigured``) and is named by ``/api/health``; every other
source keeps answering.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from shared.auth.bcrypt_guard import CheckGate
from shared.auth.fig import FigSecretVerifier
from shared.config.settings import Settings
from shared.errors import ConfigError, FeatureOff, UnknownEventType
from shared.sources import elastic_alerts, fig, ingest, wallarm
from shared.sources.base import Source, SourceRoute
from shared.sources.replay_guard import ReplayLedger


@dataclass(frozen=True)
class SourceMemory:
    """What outlives a rebuild of the sources, per process: Fig's verified secrets.

    (Delivered webhook-ids are not here: every instance shares them in a Table.)
    """

    fig_verifier: FigSecretVerifier
    fig_gate: CheckGate

    @classmethod
    def fresh(cls) -> SourceMemory:
        """Empty memories, and a bcrypt gate with its default bounds."""
        return cls(FigSecretVerifier(), CheckGate())


_Builder = Callable[[Settings, SourceMemory], Source]
_BUILDERS: Mapping[str, _Builder] = {
    fig.SOURCE_NAME: lambda settings, memory: fig.FigSource(
        secret_hash_name=settings.fig_secret_hash_name,
        event_types=settings.fig_event_types,
        verifier=memory.fig_verifier,
        gate=memory.fig_gate,
    ),
    wallarm.SOURCE_NAME: lambda settings, _: wallarm.WallarmSource(
        token_header=settings.wallarm_token_header,
        token_name=settings.wallarm_token_name,
        max_items=settings.max_rows_per_request,
    ),
    elastic_alerts.SOURCE_NAME: lambda settings, _: elastic_alerts.ElasticAlertsSource(
        auth_name=settings.elastic_auth_name, max_items=settings.max_rows_per_request
    ),
}


class SourceCatalog:
    """The sources of one set of settings, each built on first use and kept."""

    def __init__(
        self, settings: Settings, memory: SourceMemory, replays: Callable[[], ReplayLedger]
    ) -> None:
        """Take the settings, the memory every rebuild shares and the replay ledger's
        provider (built on a signed webhook's first claim)."""
        self._settings = settings
        self._memory = memory
        self._replays = replays
        self._built: dict[str, Source] = {}
        self._lock = threading.Lock()

    def source(self, name: str) -> Source:
        """The configured source ``name`` (``fig``, ``wallarm``, ``elastic``).

        Raises:
            FeatureOff: its settings are wrong; the message names no setting.
        """
        built = self._built.get(name)  # every request asks: a built one is read without more
        if built is not None:
            return built
        return self._get(name, lambda: _BUILDERS[name](self._settings, self._memory))

    def ingest(self, route: str) -> Source:
        """The Standard Webhooks source for ``/api/ingest/{route}``.

        Raises:
            UnknownEventType: INGEST_SOURCES does not list it (404).
            FeatureOff: INGEST_SOURCES, or its entry, is wrong.
        """
        settings = self._settings.ingest
        name = ingest.source_name(route)
        if self._settings.problems_of("ingest"):
            raise FeatureOff(name, self._settings.problems_of("ingest"))
        if route in settings.broken:
            raise FeatureOff(name, settings.broken[route])
        config = settings.sources.get(route)
        if config is None:
            raise UnknownEventType("No such source.")
        return self._get(name, lambda: ingest.IngestSource(route, config, self._replays))

    def for_route(self, route_info: SourceRoute, route: str) -> Source:
        """The source serving ``route_info``'s URL at ``route``."""
        if route_info.name.startswith(ingest.FAMILY):
            return self.ingest(route)
        return self.source(route_info.name)

    def off(self) -> dict[str, tuple[str, ...]]:
        """Every source that is off because of its settings, with its problems."""
        found: dict[str, tuple[str, ...]] = {}
        for name in _BUILDERS:
            try:
                self.source(name)
            except FeatureOff as error:
                found[name] = error.problems
        for route, problems in self._settings.ingest.broken.items():
            found[ingest.source_name(route)] = problems
        if self._settings.problems_of("ingest"):
            found[ingest.FAMILY] = self._settings.problems_of("ingest")
        return found

    def _get(self, name: str, build: Callable[[], Source]) -> Source:
        built = self._built.get(name)  # a dict read is atomic; only building takes the lock
        if built is not None:
            return built
        feature = _feature(name)
        if self._settings.problems_of(feature):
            raise FeatureOff(name, self._settings.problems_of(feature))
        try:
            built = build()
        except ConfigError as error:
            raise FeatureOff(name, error.problems) from None
        with self._lock:
            return self._built.setdefault(name, built)


def _feature(name: str) -> str:
    """The settings feature a source belongs to (``ingest-acme`` -> ``ingest``)."""
    return ingest.FAMILY if name.startswith(ingest.FAMILY + "-") else name
