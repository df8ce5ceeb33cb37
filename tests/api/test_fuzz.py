"""Property-based testing of the whole API from the committed OpenAPI file (schemathesis): no server
errors; status codes, content types and response bodies as documented. A bounded run here
(FUZZ_EXAMPLES per operation, default 6); `make fuzz` runs a longer one. The service runs under uvicorn
on a loopback port, on the test database, with a tenant of its own."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app import openapi_file
from app.config import Settings
from app.models.tenants import Role

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
SCHEMA = schemathesis.openapi.from_path(openapi_file.OPENAPI_PATH)  # the committed file, as clients see it
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def served(settings: Settings) -> Iterator[tuple[str, dict[str, str]]]:
    from sqlalchemy import delete

    from app.db import create_engine, create_sessionmaker
    from app.main import create_app
    from app.models.tenants import Tenant
    from tests.conftest import make_tenant

    fuzz_settings = settings.model_copy(update={"rate_limit": "", "event_worker_enabled": False})

    async def tenant() -> tuple[uuid.UUID, str]:
        engine = create_engine(fuzz_settings)
        async with create_sessionmaker(engine)() as session, session.begin():
            made = await make_tenant(session, f"fuzz-{uuid.uuid4().hex[:8]}")
        await engine.dispose()
        return made.tenant_id, made.keys[Role.admin]

    tenant_id, key = asyncio.run(tenant())
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(fuzz_settings, migrate_on_start=False),
            host="127.0.0.1",
            port=port,
            log_config=None,
            lifespan="on",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the service did not start"
    yield f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {key}"}
    server.should_exit = True
    thread.join(timeout=20)

    async def cleanup() -> None:
        engine = create_engine(fuzz_settings)
        async with create_sessionmaker(engine)() as session, session.begin():
            await session.execute(delete(Tenant).where(Tenant.id == tenant_id))
        await engine.dispose()

    asyncio.run(cleanup())


@pytest.mark.parametrize("operation", OPERATIONS, ids=[operation.label for operation in OPERATIONS])
def test_the_api_keeps_its_contract(operation: object, served: tuple[str, dict[str, str]]) -> None:
    base_url, headers = served

    @given(case=operation.as_strategy())  # type: ignore[attr-defined]
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def call(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)

    call()
