"""The azd hooks under ``infra/hooks/`` as modules: azd runs them as scripts, tests import them."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

HOOKS = Path(__file__).resolve().parents[1] / "infra" / "hooks"


def load_hook(name: str) -> ModuleType:
    """``infra/hooks/<name>.py``, loaded once per process."""
    loaded = sys.modules.get(name)
    if loaded is not None:
        return loaded
    spec = importlib.util.spec_from_file_location(name, HOOKS / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module
