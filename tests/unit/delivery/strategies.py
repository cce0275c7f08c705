"""Hypothesis strategies for JSON rows: ordinary, incompressible and highly compressible."""

from __future__ import annotations

import zlib
from typing import Any

from hypothesis import strategies as st

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)

json_values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=10,
)

# Hex of random bytes barely compresses; one character repeated compresses about 1000:1.
incompressible = st.binary(max_size=700).map(bytes.hex)
compressible = st.builds(lambda ch, n: ch * n, st.characters(), st.integers(0, 4000))

column_names = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12
)

rows = st.dictionaries(
    column_names,
    st.one_of(json_values, incompressible, compressible, st.text(max_size=300)),
    max_size=5,
)


def gunzip_member(body: bytes) -> bytes:
    """Decompress exactly one complete gzip member; fail on truncation or trailing data."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    data = inflater.decompress(body) + inflater.flush()
    assert inflater.eof, "gzip member is incomplete"
    assert inflater.unused_data == b"", "bytes follow the gzip member"
    return data
