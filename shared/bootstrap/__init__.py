"""The composition root (``shared.bootstrap.root.Root``) and the process's one instance.

Blueprints reach every dependency through :func:`root`; tests hand the root a settings
dict with :func:`install_root` instead of setting environment variables.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping

from shared.bootstrap.root import Root

__all__ = ["Root", "install_root", "root"]

_root: Root | None = None
_lock = threading.Lock()


def root() -> Root:
    """The process's root, over the app settings (``os.environ``) unless one was installed.

    The one place in the app that names ``os.environ``; it is read on first use, never at
    import time.
    """
    global _root
    current = _root
    if current is not None:
        return current
    with _lock:
        if _root is None:
            _root = Root(os.environ)
        return _root


def install_root(environ: Mapping[str, str]) -> Root:
    """Replace the process's root with one over ``environ`` (a copy): for tests, and for a
    long-lived process whose settings changed."""
    global _root
    with _lock:
        _root = Root(dict(environ))
        return _root
