"""Schemathesis hooks (loaded through ``SCHEMATHESIS_HOOKS``): hostile JSON bodies too.

Besides the bodies it derives from the OpenAPI document, schemathesis also sends the
hostile shapes of ``tests.hostile`` (1e400, NaN, lone surrogates, deep nesting,
duplicate keys) as raw bytes to every route that takes a body.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import strategies as st

from tests.hostile import hostile_bodies


@schemathesis.hook
def flatmap_body(context: schemathesis.HookContext, body: Any) -> st.SearchStrategy[Any]:
    """The generated body, or a hostile one in its place."""
    return st.one_of(st.just(body), hostile_bodies)
