"""The composition root: every capability's dependencies, built in one place, on first use.

``Root`` holds the settings mapping it was handed (``os.environ`` in the app, a dict in
tests) and nothing reads settings anywhere else. Nothing is built at import time (the
Functions host imports the app to index it). Each capability gets a frozen object with
exactly what it uses; ``shared.bootstrap.edges`` turns them into what the blueprints call:

==================  ===============================  ===================================
capability          built by                         holds
==================  ===============================  ===================================
every source        :meth:`Root.intake_deps`,        ``IntakeDeps``; each source built
                    :meth:`Root.sources`             alone (``SourceCatalog``)
retry worker        :meth:`Root.retry_deps`          ``RetryDeps``
dead letters        :meth:`Root.retry_storage`       queue, spill, dead letters, poison
incidents           :meth:`Root.incidents`           every source's ``Forwarder``
Kibana cases        :meth:`Root.case_deps`           ``CaseDeps``
health              :meth:`Root.health_deps`         ``HealthDeps``
bridge health       :meth:`Root.bridge_health`       ``BridgeHealthWiring``
==================  ===============================  ===================================

A problem with the settings every capability shares raises ``ConfigError`` from each
builder (503, named at /api/health) and is retried on the next call, so the app never
has to be re-indexed to recover. A problem with one feature's settings raises
``FeatureOff`` from that feature's builders only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

from shared.auth.basic import BasicOrTokenAuth
from shared.bootstrap.clients import Clients, build_clients
from shared.bootstrap.sources import SourceCatalog, SourceMemory
from shared.cases.receive import CaseDeps
from shared.config.incident_sources import FEATURE_PREFIX as INCIDENT_SOURCE_FEATURE
from shared.config.platform import Platform
from shared.config.settings import Settings
from shared.errors import FeatureOff, UnknownEventType
from shared.inbound.intake import IntakeDeps
from shared.sources import elastic_alerts
from shared.telemetry.counting import Telemetry
from shared.telemetry.metrics import Counters, new_instance_id

if TYPE_CHECKING:
    from shared.adapters.retry_storage import RetryStorage
    from shared.bootstrap.incidents import IncidentWiring
    from shared.diagnostics.health import HealthDeps
    from shared.incidents.fleet import IncidentFleet
    from shared.incidents.forward import Forwarder
    from shared.retrying.deps import RetryDeps
    from shared.sources.replay_guard import ReplayLedger
    from shared.telemetry.bridge_health import BridgeHealthWiring
    from shared.telemetry.flush import Flusher

logger = logging.getLogger(__name__)

_T = TypeVar("_T")


def _on_loop(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
    """``callback`` on ``loop``: at once when called on it, else from any thread through
    the loop's wake-up pipe; nothing if the loop has closed."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        callback()  # every request pokes: a self-pipe write and loop wake-up each would cost
        return
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(callback)


class Root:
    """Builds and keeps every capability's dependencies for one settings mapping."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        """Take the settings mapping; read nothing yet."""
        self._environ = environ
        self._lock = threading.RLock()
        self._built: dict[str, object] = {}
        self.platform = Platform.from_env(environ)
        # Kept even while the settings are broken, so refusals are still counted.
        self.counters = Counters(new_instance_id(self.platform.instance_id))
        self._telemetry = Telemetry(self.counters, self._poke)  # every reply is counted
        self._flusher: Flusher | None = None  # set once the storage side is built
        self.rng = random.Random()  # noqa: S311  # backoff jitter, not a secret
        self._memory = SourceMemory.fresh()

    @property
    def environ(self) -> Mapping[str, str]:
        """The settings mapping this root reads."""
        return self._environ

    def _once(self, key: str, build: Callable[[], _T]) -> _T:
        """Build ``key`` once; a build that raises is tried again on the next call.

        Once built, a value is read without the lock: every request reads several.
        """
        if key in self._built:
            done: _T = self._built[key]  # type: ignore[assignment]  # stored by this key
            return done
        with self._lock:
            if key not in self._built:
                self._built[key] = build()
            built: _T = self._built[key]  # type: ignore[assignment]  # stored by this key
            return built

    # --- what every capability shares -------------------------------------------------

    def settings(self) -> Settings:
        """The settings (raises ConfigError naming every shared problem)."""
        return self._once("settings", self._read_settings)

    def _read_settings(self) -> Settings:
        settings = Settings.from_env(self._environ)
        for feature, problems in settings.problems.items():
            logger.error("%s is off: %s", feature, "; ".join(problems))
        return settings

    def clients(self) -> Clients:
        """The SDK-backed adapters (built on first use)."""

        def build() -> Clients:
            settings = self.settings()
            clients = build_clients(settings, self.counters)
            logger.info(
                "Bridge clients built (vault %s, storage %s)",
                settings.key_vault_uri,
                settings.storage.describe(),
            )
            return clients

        return self._once("clients", build)

    def telemetry(self) -> Telemetry:
        """The counters, and a poke that writes them out once the clients exist."""
        return self._telemetry

    def _poke(self) -> None:
        flusher = self._flusher
        if flusher is not None:  # every reply pokes: once the storage side exists, directly
            flusher.poke()
            return
        clients = self._built.get("clients")
        if not isinstance(clients, Clients):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not in a coroutine: the next poke or the timer writes it
            return
        # The first poke builds the storage side in a thread; the write is then due on
        # this loop (the flusher schedules itself on the running loop).
        clients.when_storage_ready(lambda ready: self._flusher_ready(loop, ready))

    def _flusher_ready(self, loop: asyncio.AbstractEventLoop, flusher: Flusher) -> None:
        self._flusher = flusher
        _on_loop(loop, flusher.poke)

    # --- inbound webhooks ---------------------------------------------------------------

    def sources(self) -> SourceCatalog:
        """Every source, each built alone from its own settings."""
        return self._once(
            "sources", lambda: SourceCatalog(self.settings(), self._memory, self.replay_ledger)
        )

    def replay_ledger(self) -> ReplayLedger:
        """The Standard Webhooks replay ledger: a Table every instance shares."""

        def build() -> ReplayLedger:
            from shared.adapters.replay_table import build_replay_ledger

            settings, clients = self.settings(), self.clients()
            return build_replay_ledger(
                settings.storage,
                clients.storage_credential,
                health_table_name=settings.health_table_name,
            )

        return self._once("replays", build)

    def intake_deps(self) -> IntakeDeps:
        """What every source's intake uses."""

        def build() -> IntakeDeps:
            settings, clients = self.settings(), self.clients()
            return IntakeDeps(
                secrets=clients.secrets,
                sink=clients.sink,
                retry_queue=clients.retry_queue,
                dead_letters=clients.dead_letters,
                telemetry=self.telemetry(),
                rng=self.rng,
                max_body_bytes=settings.max_body_bytes,
                retry_base_seconds=settings.retry_base_seconds,
                retry_max_seconds=settings.retry_max_seconds,
            )

        return self._once("intake", build)

    # --- retries ------------------------------------------------------------------------

    def retry_storage(self) -> RetryStorage:
        """The retry queue, spill, dead letters and poison queue."""
        return self.clients().storage

    def retry_deps(self) -> RetryDeps:
        """What the retry worker uses, with every target kind's deliverer."""
        from shared.incidents.forward import retry_deliverer
        from shared.incidents.sending import SIGNL4_KIND, WEBHOOK_KIND
        from shared.retrying.deps import RetryDeps, default_targets

        def build() -> RetryDeps:
            settings, storage = self.settings(), self.retry_storage()
            deliver = retry_deliverer(self.incident_fleet)
            return RetryDeps(
                sink=self.clients().sink,
                queue=storage.queue,
                dead_letters=storage.dead_letters,
                spill=storage.spill,
                budget=settings.delivery_budget,
                base_seconds=settings.retry_base_seconds,
                cap_seconds=settings.retry_max_seconds,
                targets={**default_targets(), SIGNL4_KIND: deliver, WEBHOOK_KIND: deliver},
            )

        return self._once("retry", build)

    # --- incidents ----------------------------------------------------------------------

    def incidents(self) -> IncidentWiring:
        """The ARM client, poster and state table (FeatureOff while misconfigured)."""

        def build() -> IncidentWiring:
            from shared.bootstrap.incidents import build_incidents

            settings = self.settings()
            problems = settings.problems_of("incidents")
            if problems:
                raise FeatureOff("incidents", problems)
            return build_incidents(settings, self.clients(), self.platform, self.counters, self.rng)

        return self._once("incidents", build)

    def forwarder(self) -> Forwarder:
        """The default (or first) incident source's forwarder."""
        return self.incidents().forwarder

    def incident_fleet(self) -> IncidentFleet:
        """Every incident source's forwarder (poller, SIGNL4 callback, retried deliveries)."""
        return self.incidents().fleet

    # --- Kibana cases -------------------------------------------------------------------

    def case_deps(self) -> CaseDeps:
        """What the case routes use (FeatureOff while Elastic or incidents are off)."""

        def build() -> CaseDeps:
            settings = self.settings()
            for feature in ("elastic", "incidents"):
                if settings.problems_of(feature):
                    raise FeatureOff("elastic-cases", settings.problems_of(feature))
            if settings.incident_sources.case_source() is None:
                raise UnknownEventType("This endpoint is not enabled (no Sentinel workspace).")
            return CaseDeps(
                secrets=self.clients().secrets,
                authenticator=BasicOrTokenAuth(
                    settings.elastic_auth_name, elastic_alerts.TOKEN_PLACES
                ),
                max_body_bytes=settings.max_body_bytes,
                api=lambda: self.incidents().api,
                records=lambda: self.incidents().cases,
                kibana_base_url=settings.kibana_base_url,
            )

        return self._once("cases", build)

    # --- health --------------------------------------------------------------------------

    def health_deps(self) -> HealthDeps:
        """What ``/api/health`` looks at (raises ConfigError for shared problems)."""
        from shared.diagnostics.health import HealthDeps

        settings, clients = self.settings(), self.clients()
        features_off = dict(self.sources().off())
        for feature in ("incidents", "destinations"):
            if settings.problems_of(feature):
                features_off[feature] = settings.problems_of(feature)
        for feature, problems in settings.problems.items():
            if feature.startswith(INCIDENT_SOURCE_FEATURE):  # one source off, the others on
                features_off[feature] = problems
        return HealthDeps(
            settings=settings,
            credential=clients.credential,
            secrets=clients.secrets,
            sink=clients.sink,
            retry_queue=clients.storage.queue,
            dead_letters=clients.storage.dead_letters,
            features_off=features_off,
            forwarder=self.forwarder,
            fleet=self.incident_fleet,
        )

    def bridge_health(self) -> BridgeHealthWiring:
        """What the bridge-health timer writes with."""
        from shared.telemetry.bridge_health import BridgeHealthWiring

        clients = self.clients()
        return BridgeHealthWiring(
            sink=clients.sink,
            health_table=clients.health_table,
            flusher=clients.flusher,
            retry_queue=clients.storage.queue,
            dead_letters=clients.storage.dead_letters,
            bridge_name=self.platform.site_name,
        )
