"""Imports a v2-model ``FunctionApp`` and reads each function's trigger, once.

Only the trigger argument is passed to a function, plus the HTTP ``$return`` output.
Other bindings (``queue_output``, ``blob_input``...) and other parameters (the worker's
``context: func.Context``) are refused at startup with the function's name, rather than
half-served: the real host supports them.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import azure.functions as func

logger = logging.getLogger(__name__)

DEFAULT_CONNECTION = "AzureWebJobsStorage"
_SERVED_TRIGGERS = {"httpTrigger", "timerTrigger", "queueTrigger"}


class AppLoadError(RuntimeError):
    """The app cannot be imported, indexed or served by this host."""


@dataclass(frozen=True)
class LoadedFunction:
    """One function, its trigger binding (as function.json writes it) and its callable."""

    name: str
    trigger: Mapping[str, Any]
    user_function: Callable[..., Any]
    function_json: str

    @property
    def trigger_type(self) -> str:
        """``httpTrigger``, ``timerTrigger`` or ``queueTrigger``."""
        return str(self.trigger["type"])

    @property
    def arg_name(self) -> str:
        """The parameter the trigger value is passed as."""
        return str(self.trigger["name"])

    @cached_property
    def is_async(self) -> bool:
        """Whether the function is a coroutine function (awaited on the host's loop)."""
        # Cached: asked on every invocation, and inspect's answer is not cheap.
        return inspect.iscoroutinefunction(self.user_function)


def import_app(spec: str) -> func.FunctionApp:
    """Import ``module:attr`` (attr defaults to ``app``) and return the FunctionApp."""
    module_name, _, attribute = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise AppLoadError(f"cannot import {module_name!r}: {error}") from error
    app = getattr(module, attribute or "app", None)
    if not isinstance(app, func.FunctionApp):
        raise AppLoadError(f"{spec!r} is not an azure.functions.FunctionApp")
    return app


def index_functions(app: func.FunctionApp) -> list[LoadedFunction]:
    """Read every function of ``app``; call once per app (``get_functions`` is not idempotent).

    Raises:
        AppLoadError: Duplicate names, unsupported triggers or extra bindings.
    """
    loaded: list[LoadedFunction] = []
    for function in app.get_functions():
        name = function.get_function_name() or function.get_user_function().__name__
        declared_trigger = function.get_trigger()
        if declared_trigger is None:
            raise AppLoadError(f"function {name!r} has no trigger")
        trigger = _plain(declared_trigger.get_dict_repr())
        bindings = [_plain(binding.get_dict_repr()) for binding in function.get_bindings()]
        if trigger.get("type") not in _SERVED_TRIGGERS:
            raise AppLoadError(f"function {name!r}: trigger {trigger.get('type')!r} is not served")
        extra = [
            binding
            for binding in bindings
            if binding.get("name") != trigger.get("name")
            and not (binding.get("type") == "http" and binding.get("name") == "$return")
        ]
        if extra:
            kinds = ", ".join(f"{b.get('type')}:{b.get('name')}" for b in extra)
            raise AppLoadError(f"function {name!r}: bindings not served locally: {kinds}")
        unfilled = _unfilled_parameters(function.get_user_function(), str(trigger["name"]))
        if unfilled:
            raise AppLoadError(f"function {name!r}: parameters not served locally: {unfilled}")
        loaded.append(
            LoadedFunction(
                name, trigger, function.get_user_function(), function.get_function_json()
            )
        )
    names = [function.name for function in loaded]
    duplicates = {name for name in names if names.count(name) > 1}
    if duplicates:
        raise AppLoadError(f"duplicate function names: {sorted(duplicates)}")
    logger.info("Indexed %d functions: %s", len(loaded), ", ".join(names))
    return loaded


def resolve_app_setting(value: str, environ: Mapping[str, str] = os.environ) -> str:
    """Resolve a ``%NAME%`` binding expression from the app settings (environment)."""
    if len(value) > 2 and value.startswith("%") and value.endswith("%"):
        name = value[1:-1]
        if name not in environ:
            raise AppLoadError(f"app setting {name!r} (from {value!r}) is not set")
        return environ[name]
    return value


def connection_string(setting: str | None, environ: Mapping[str, str] = os.environ) -> str:
    """The storage connection string a binding's ``connection`` names.

    Identity-based connections (``<setting>__queueServiceUri``) are not served locally.
    """
    name = setting or DEFAULT_CONNECTION
    value = environ.get(name) or environ.get(f"AzureWebJobs{name}")
    if not value:
        raise AppLoadError(f"connection setting {name!r} is not set (a connection string)")
    return value


def _unfilled_parameters(user_function: Callable[..., Any], trigger_arg: str) -> list[str]:
    # The worker also fills "context" (func.Context); this host passes the trigger only.
    return [
        parameter.name
        for parameter in inspect.signature(user_function).parameters.values()
        if parameter.name != trigger_arg and parameter.default is inspect.Parameter.empty
    ]


def _plain(binding: Mapping[str, Any]) -> dict[str, Any]:
    # get_dict_repr() holds enums (methods, authLevel, direction); keep their plain values.
    return {key: _enum_value(value) for key, value in binding.items()}


def _enum_value(value: Any) -> Any:
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_enum_value(item) for item in value]
    return getattr(value, "value", value)
