"""Property-based fuzzing of every operation in the app's own OpenAPI schema (schemathesis):
whatever the inputs, valid or not, the service answers without a 5xx. Bounded (MAX_EXAMPLES
per operation) and deterministic (derandomized Hypothesis, no example database)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.schemas import BaseSchema
from starlette.types import Receive, Scope, Send

from loupe.api.access.keys import Scope as KeyScope
from loupe.api.app import create_app
from loupe.api.settings import Settings
from loupe.search.encoders.pool import EncoderPool
from tests.api.conftest import AUTH, make_settings, wait_job

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 25
SKIPPED = {("POST", "/v1/admin/reindex")}  # starts a real reindex of the whole collection
CASES: Counter[str] = Counter()
TENANT_AUTH: dict[str, str] = {}  # a tenant's write key, made when the app starts


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every operation, read from the schema of an app never started."""
    spec = create_app(Settings.model_validate({"data_dir": "/nonexistent/loupe"})).openapi()
    found = [
        (method.upper(), path)
        for path, methods in spec["paths"].items()
        for method in methods
        if method in ("get", "post", "put", "patch", "delete")
    ]
    return sorted(op for op in found if op not in SKIPPED)


@pytest.fixture(scope="module")
def app_client(
    tmp_path_factory: pytest.TempPathFactory, encoders: EncoderPool, sample_dir: Path
) -> Iterator[TestClient]:
    """The real app, running (lifespan entered), with a photo and a text stored by a tenant's
    write key, which then calls every operation but the admin ones (those get the admin key)."""
    data_dir = tmp_path_factory.mktemp("fuzz") / "data"
    with TestClient(create_app(make_settings(data_dir), encoders=encoders), headers=AUTH) as client:
        access = client.app.state.access  # type: ignore[attr-defined]
        _, key = access.create(scope=KeyScope.WRITE, tenant="fuzz", name="fuzzer")
        TENANT_AUTH["Authorization"] = f"Bearer {key}"
        client.headers.update(TENANT_AUTH)
        photo = ("files", ("cat.jpg", (sample_dir / "cat.jpg").read_bytes(), "image/jpeg"))
        for response in (
            client.post("/v1/items", files=[photo]),
            client.post("/v1/items", json={"items": [{"text": "a harbour at dawn"}]}),
        ):
            assert wait_job(client, response.json()["job_id"])["state"] == "succeeded"
        yield client
    print(f"\nschemathesis cases: {sum(CASES.values())} over {len(CASES)} operations")


@pytest.fixture(scope="module")
def api_schema(app_client: TestClient) -> BaseSchema:
    """The running app's schema, called in-process over ASGI."""
    app = app_client.app

    async def without_lifespan(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":  # app_client already runs it; refusing = "unsupported"
            raise RuntimeError("the lifespan is owned by the TestClient")
        await app(scope, receive, send)

    return schemathesis.openapi.from_asgi("/openapi.json", without_lifespan)


@pytest.mark.parametrize(("method", "path"), _operations())
def test_no_server_errors(api_schema: BaseSchema, method: str, path: str) -> None:
    operation = api_schema[path][method]
    headers = AUTH if path.startswith("/v1/admin") else TENANT_AUTH
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases)
    def run(case: Any) -> None:
        CASES[f"{method} {path}"] += 1
        case.call_and_validate(headers=headers, checks=[not_a_server_error])

    run()
