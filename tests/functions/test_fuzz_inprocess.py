"""Hypothesis-generated requests to every inbound function, in process, with the real
adapters: no input without valid credentials may give a 5xx, a crash, or a row."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from local.emulators.stack import EmulatorStack
from tests.azure_fixtures import FigCredentials, use_settings
from tests.functions.app_functions import call_http
from tests.fuzzing import METHODS, generated_request
from tests.logscan import remember_secret

pytestmark = pytest.mark.usefixtures("app_env")

# function name -> (route, route params)
ENDPOINTS: dict[str, tuple[str, dict[str, str]]] = {
    "fig_webhook": ("fig/SecurityEvent", {"event": "SecurityEvent"}),
    "wallarm_webhook": ("wallarm", {}),
    "elastic_alerts_webhook": ("elastic/alerts", {}),
    "ingest_webhook": ("ingest/demo", {"source": "demo"}),
}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.lists(json_values, max_size=3).map(lambda lines: "\n".join(map(json.dumps, lines)).encode()),
)
header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60)
headers = st.dictionaries(
    st.sampled_from(
        [
            "Authorization",
            "X-Auth-Token",
            "Content-Type",
            "Content-Length",
            "webhook-id",
            "webhook-timestamp",
            "webhook-signature",
        ]
    ),
    header_text,
    max_size=5,
)


@pytest.fixture(autouse=True)
def _sources_on(emulators: EmulatorStack) -> Iterator[None]:
    """Every source switched on, with credentials the generated requests do not know."""
    emulators.keyvault.set_secret("wallarm-token", remember_secret("wallarm-token-0123456789"))
    emulators.keyvault.set_secret("elastic-webhook-auth", remember_secret("kibana:pass-0123456789"))
    emulators.keyvault.set_secret(
        "demo-whsec", remember_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    )
    use_settings(
        INGEST_SOURCES=json.dumps(
            {"demo": {"stream": "Custom-BridgeEvents", "secretNames": ["demo-whsec"]}}
        ),
    )
    yield
    for name in ("wallarm-token", "elastic-webhook-auth", "demo-whsec"):
        emulators.keyvault.set_enabled(name, False)  # switched off again for other tests


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_no_generated_request_is_a_5xx_or_a_row(
    name: str, emulators: EmulatorStack, fig_credentials: FigCredentials
) -> None:
    """Random methods, headers and bodies: 4xx or a 2xx without a row, never 5xx."""
    route, params = ENDPOINTS[name]

    @settings(max_examples=60)
    @given(
        method=METHODS,
        generated_headers=headers,
        body=bodies,
    )
    def check(method: str, generated_headers: dict[str, Any], body: bytes) -> None:
        request = generated_request(method, route, params, generated_headers, body)
        response = call_http(name, request)
        assert response.status_code < 500, response.get_body()
        assert emulators.ingestion.rows() == []

    check()
