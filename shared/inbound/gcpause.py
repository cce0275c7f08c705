"""Keep the cyclic garbage collector from stopping the event loop while a batch is parsed.

Parsing a 16 MiB batch creates hundreds of thousands of objects that all survive until the
rows are sent. Each of them moves the collector towards a full collection, and a full
collection holds the interpreter lock for its whole run: about 100 ms here, during which
no other request is answered. While any batch is being parsed the collector is paused;
reference counting still frees everything that is not part of a cycle, and the collector
resumes (as it was before) when the last parse ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_parsing = 0
_was_enabled = True


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic collector for the duration (nests across threads)."""
    global _parsing, _was_enabled
    with _lock:
        if _parsing == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _parsing += 1
    try:
        yield
    finally:
        with _lock:
            _parsing -= 1
            if _parsing == 0 and _was_enabled:
                gc.enable()
