"""Property-based testing of the whole API from the committed OpenAPI file (schemathesis), with its default
checks: no server errors; status codes, content types, headers and bodies as documented; schema-invalid
requests rejected (negative mode) and schema-valid ones accepted (positive mode). A bounded run here
(FUZZ_EXAMPLES per operation and mode, default 6); `make fuzz` runs a longer one. The service runs under
uvicorn in this process, on a loopback port, on the test database, with a tenant of its own.

Two default checks are replaced by stricter versions that know what a schema cannot say:
- valid data accepted: a schema-valid request may still be refused with 422 when the refusal is one the
  schema cannot express (an Idempotency-Key reused with another body, a cursor the API never sent, a
  webhook destination that is not https or not public, a rule across fields or dates that do not form
  one case); a 422 naming any other error type fails;
- invalid data rejected: a mutation that vanishes on the wire (see invalid_requests_are_rejected) is no
  failure; and for the activity batch: an invalid item does not refuse the whole batch (items
  are independent, by design), so a batch answered 200 must report the invalid item as an error."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jsonschema_rs
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    AcceptedNegativeData,
    negative_data_rejection,
    positive_data_acceptance,
)

from app import openapi_file
from app.config import Settings
from app.models.tenants import Role

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
SCHEMA = schemathesis.openapi.from_path(openapi_file.OPENAPI_PATH)  # the committed file, as clients see it
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
BATCH = "POST /api/v1/activities/batch"
# 422 error types for refusals the schema cannot state (see the module docstring).
UNSTATED_RULES = {"cursor", "destination", "value_error"}
Check = Callable[[Any, schemathesis.Response, schemathesis.Case], bool | None]


def schema_valid_requests_are_accepted(
    ctx: Any, response: schemathesis.Response, case: schemathesis.Case
) -> None:
    if case.meta is None or not case.meta.generation.mode.is_positive or response.status_code != 422:
        return
    problem = response.json()
    if problem.get("code") == "idempotency-key-reused":
        return
    kinds = {error.get("type") for error in problem.get("errors", [])}
    # No `errors` at all: the domain refused the meaning of the input (periods that do not form one case).
    assert kinds <= UNSTATED_RULES, f"a schema-valid request was refused: {problem}"


def invalid_requests_are_rejected(ctx: Any, response: schemathesis.Response, case: schemathesis.Case) -> None:
    """The default check, less its false alarms: a query mutation that does not survive serialisation (an
    empty list vanishes, a list of one value is sent as that value, `false` is sent as the text "false")
    and a dropped Authorization header (which the test sets again) leave a valid request on the wire,
    which rightly succeeds. Such a failure is dropped only when the query actually sent is valid."""
    try:
        negative_data_rejection(ctx, response, case)
    except AcceptedNegativeData:
        if not (
            only_query_or_authorization_mutated(case)
            and query_sent_is_valid(case, response.request.url or "")
        ):
            raise


def only_query_or_authorization_mutated(case: schemathesis.Case) -> bool:
    """Read from the case's mutation records, not the failure's wording (which changes with the count of
    mutations and of locations)."""
    mutations = case.meta.phase.data.mutations if case.meta is not None else ()
    return bool(mutations) and all(
        mutation.parameter_location is ParameterLocation.QUERY
        or (
            mutation.parameter_location is ParameterLocation.HEADER
            and "Authorization" in (mutation.parameter, mutation.original_value)
        )
        for mutation in mutations
    )


def query_sent_is_valid(case: schemathesis.Case, url: str) -> bool:
    declared = {p.name: p.definition for p in case.operation.iter_parameters() if p.location.value == "query"}
    sent: dict[str, list[str]] = defaultdict(list)
    for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        sent[name].append(value)
    if any(name not in declared for name in sent):
        return False
    if any(definition.get("required") and name not in sent for name, definition in declared.items()):
        return False
    for name, values in sent.items():
        validator = jsonschema_rs.Draft202012Validator(
            declared[name].get("schema", {}), validate_formats=True
        )
        as_sent: list[Any] = [values, [_typed(v) for v in values]]
        if len(values) == 1:
            as_sent += [values[0], _typed(values[0])]
        if not any(validator.is_valid(candidate) for candidate in as_sent):
            return False
    return True


def _typed(text: str) -> Any:
    """A query value read the way the service reads it for a number or boolean parameter."""
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if text in ("true", "false"):
        return text == "true"
    return text


def invalid_batch_items_are_reported(
    ctx: Any, response: schemathesis.Response, case: schemathesis.Case
) -> None:
    if case.meta is None or not case.meta.generation.mode.is_negative or response.status_code >= 400:
        return
    results = response.json().get("results", [])
    assert any(result["status"] == "error" for result in results), "an invalid batch was wholly accepted"


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


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
@pytest.mark.parametrize("operation", OPERATIONS, ids=[operation.label for operation in OPERATIONS])
def test_the_api_keeps_its_contract(
    operation: object, mode: GenerationMode, served: tuple[str, dict[str, str]]
) -> None:
    base_url, headers = served

    excluded: list[Check] = [positive_data_acceptance, negative_data_rejection]
    additional: list[Check] = [schema_valid_requests_are_accepted]
    if operation.label == BATCH:  # type: ignore[attr-defined]
        additional.append(invalid_batch_items_are_reported)
    else:
        additional.append(invalid_requests_are_rejected)

    @given(case=operation.as_strategy(generation_mode=mode))  # type: ignore[attr-defined]
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def call(case: schemathesis.Case) -> None:
        case.call_and_validate(
            base_url=base_url, headers=headers, excluded_checks=excluded, additional_checks=additional
        )

    try:
        call()
    except Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise
        pytest.skip("no schema-invalid request exists for this operation")
