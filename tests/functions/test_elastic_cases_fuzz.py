"""Generated requests to the case routes, with and without valid credentials: never a 5xx."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from local.emulators.stack import EmulatorStack
from tests.azure_fixtures import fresh_root
from tests.functions.test_elastic_cases import AUTH_NAME, handlers
from tests.fuzzing import METHODS, generated_request
from tests.logscan import remember_secret

PASSWORD = remember_secret("cases-fuzz-" + uuid.uuid4().hex)
VALID = "Basic " + base64.b64encode(f"kibana:{PASSWORD}".encode()).decode()
ENDPOINTS = {
    "elastic_cases_create": ("elastic/cases", {}),
    "elastic_cases_incident": ("elastic/cases/{id}", {"id": str(uuid.uuid4())}),
    "elastic_cases_comment": ("elastic/cases/{id}/comment", {"id": str(uuid.uuid4())}),
}
values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)
case_keys = st.sampled_from(
    ["kibanaCaseId", "title", "description", "severity", "status", "tags", "id", "body"]
)
case_like = st.dictionaries(case_keys, values, max_size=6).map(lambda d: json.dumps(d).encode())
bodies = st.one_of(st.binary(max_size=200), values.map(lambda v: json.dumps(v).encode()), case_like)
authorization = st.one_of(st.just(VALID), st.text(max_size=40), st.none())


@pytest.fixture
def credentials(app_env: dict[str, str], emulators: EmulatorStack) -> None:
    """Kibana's credentials in the vault; a clean workspace."""
    emulators.sentinel.reset()
    emulators.keyvault.set_secret(AUTH_NAME, f"kibana:{PASSWORD}")
    fresh_root()


@pytest.mark.usefixtures("credentials")
@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_no_generated_request_is_a_5xx(name: str, emulators: EmulatorStack) -> None:
    """Random methods, credentials and bodies (case-like ones too): 2xx or 4xx, JSON."""
    route, params = ENDPOINTS[name]

    @settings(max_examples=50)
    @given(
        method=METHODS,
        auth=authorization,
        body=bodies,
    )
    def check(method: str, auth: str | None, body: bytes) -> None:
        headers = {"content-type": "application/json"}
        if auth is not None:
            headers["Authorization"] = auth
        request = generated_request(method, route, params, headers, body)
        answer = asyncio.run(handlers()[name](request))
        assert answer.status_code < 500, answer.get_body()
        assert answer.mimetype == "application/json"
        json.loads(answer.get_body())

    check()
