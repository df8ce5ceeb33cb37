"""Every error is RFC 9457 problem+json with a stable code; validation errors list JSON pointers."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.models.tenants import Role
from tests.conftest import TenantKeys

CASES = "/api/v1/cases"


def problem(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith("/" + code)
    assert body["title"] and body["detail"]
    return body


async def test_validation_errors_name_every_field_with_a_pointer(
    client: httpx.AsyncClient, tenant_a: TenantKeys
) -> None:
    body = {"employee": {"display_name": "x"}, "first_sick_day": "2026-02-30", "colour": "blue"}
    response = await client.post(CASES, json=body, headers=tenant_a.headers())
    errors = problem(response, 422, "validation-failed")["errors"]
    pointers = {error["pointer"] for error in errors}
    assert pointers == {"#/employee/external_ref", "#/first_sick_day", "#/colour"}
    unknown = next(error for error in errors if error["pointer"] == "#/colour")
    assert "Unknown field" in unknown["reason"]


async def test_query_parameter_errors_point_into_the_query(
    client: httpx.AsyncClient, tenant_a: TenantKeys
) -> None:
    response = await client.get(CASES, params={"limit": 501}, headers=tenant_a.headers())
    assert problem(response, 422, "validation-failed")["errors"][0]["pointer"] == "#/query/limit"
    response = await client.get(CASES, params={"cursor": "garbage!"}, headers=tenant_a.headers())
    assert problem(response, 422, "validation-failed")["errors"][0]["pointer"] == "#/query/cursor"


async def test_a_body_that_is_not_json(client: httpx.AsyncClient, tenant_a: TenantKeys) -> None:
    response = await client.post(
        CASES, content=b"{not json", headers={**tenant_a.headers(), "Content-Type": "application/json"}
    )
    problem(response, 422, "validation-failed")


async def test_a_body_that_is_not_even_text(client: httpx.AsyncClient, tenant_a: TenantKeys) -> None:
    response = await client.post(
        CASES,
        content=b"\x80abc",  # not UTF-8: the framework cannot even decode it
        headers={**tenant_a.headers(), "Content-Type": "application/json"},
    )
    assert problem(response, 422, "validation-failed")["errors"][0]["pointer"] == "#"


async def test_a_future_first_sick_day_is_refused(client: httpx.AsyncClient, tenant_a: TenantKeys) -> None:
    body = {"employee": {"external_ref": "E"}, "first_sick_day": "2999-01-01"}
    response = await client.post(CASES, json=body, headers=tenant_a.headers())
    assert problem(response, 422, "validation-failed")["errors"][0]["pointer"] == "#/first_sick_day"


async def test_unknown_route_and_unknown_case(client: httpx.AsyncClient, tenant_a: TenantKeys) -> None:
    problem(await client.get("/api/v1/nothing-here", headers=tenant_a.headers()), 404, "not-found")
    missing = "/api/v1/cases/00000000-0000-0000-0000-000000000000"
    problem(await client.get(missing, headers=tenant_a.headers()), 404, "not-found")
    problem(
        await client.get("/api/v1/cases/not-a-uuid", headers=tenant_a.headers()), 422, "validation-failed"
    )


async def test_method_not_allowed(client: httpx.AsyncClient, tenant_a: TenantKeys) -> None:
    problem(await client.delete(CASES, headers=tenant_a.headers()), 405, "method-not-allowed")


async def test_payload_too_large(client: httpx.AsyncClient, tenant_a: TenantKeys, app: FastAPI) -> None:
    limit = app.state.settings.max_body_bytes
    response = await client.post(CASES, content=b"x" * (limit + 1), headers=tenant_a.headers())
    problem(response, 413, "payload-too-large")


async def test_patch_needs_if_match_and_refuses_a_stale_one(
    client: httpx.AsyncClient, tenant_a: TenantKeys
) -> None:
    body = {"employee": {"external_ref": "E-9"}, "first_sick_day": "2026-03-02"}
    created = (await client.post(CASES, json=body, headers=tenant_a.headers())).json()
    url = f"{CASES}/{created['id']}"
    problem(
        await client.patch(url, json={"case_manager": "a"}, headers=tenant_a.headers()),
        428,
        "precondition-required",
    )
    ok = await client.patch(
        url, json={"case_manager": "a"}, headers={**tenant_a.headers(), "If-Match": '"1"'}
    )
    assert ok.status_code == 200, ok.text
    assert ok.headers["etag"] == '"2"' and ok.json()["case_manager"] == "a"
    stale = await client.patch(
        url, json={"case_manager": "b"}, headers={**tenant_a.headers(), "If-Match": '"1"'}
    )
    problem(stale, 412, "precondition-failed")
    assert (await client.get(url, headers=tenant_a.headers())).json()["case_manager"] == "a"


async def test_an_unexpected_error_is_a_500_problem_without_internals(settings: Settings) -> None:
    from app.main import create_app

    app = create_app(settings, migrate_on_start=False)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals /etc/passwd")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/boom")
    body = problem(response, 500, "internal-error")
    assert "secret" not in response.text and "RuntimeError" not in response.text
    assert body["request_id"] == response.headers["x-request-id"]


@pytest.mark.parametrize("role", [Role.viewer, Role.coach, Role.integration, Role.occupational_physician])
async def test_roles_that_may_not_open_cases(
    client: httpx.AsyncClient, tenant_a: TenantKeys, role: Role
) -> None:
    body = {"employee": {"external_ref": "E"}, "first_sick_day": "2026-01-05"}
    problem(await client.post(CASES, json=body, headers=tenant_a.headers(role)), 403, "forbidden")


async def test_nul_characters_are_refused_not_a_database_error(
    client: httpx.AsyncClient, tenant_a: TenantKeys
) -> None:
    # Found by the fuzzer: PostgreSQL stores no NUL in text or JSONB.
    body = {"employee": {"external_ref": "E\u0000"}, "first_sick_day": "2026-01-05"}
    response = await client.post(CASES, json=body, headers=tenant_a.headers())
    assert "/employee/external_ref" in problem(response, 422, "validation-failed")["errors"][0]["reason"]
    query = await client.get(CASES + "?employee_ref=a%00b", headers=tenant_a.headers())
    assert problem(query, 422, "validation-failed")["errors"][0]["pointer"] == "#/query"
    path = await client.get("/api/v1/employees/a%00b/export", headers=tenant_a.headers(Role.admin))
    assert problem(path, 422, "validation-failed")["errors"][0]["pointer"] == "#/path"
    # A batch's items are walked once, with the batch: an item's NUL refuses the batch, storing nothing.
    case_id = (
        await client.post(CASES, json={**body, "employee": {"external_ref": "E"}}, headers=tenant_a.headers())
    ).json()["id"]
    clean = {"case_id": case_id, "kind": "employee_contact", "occurred_on": "2026-01-06", "summary": "Call"}
    items = [clean, {**clean, "details": {"channel": "phone", "note\u0000": "x"}}]
    headers = tenant_a.headers(Role.integration)
    batch = await client.post("/api/v1/activities/batch", json={"items": items}, headers=headers)
    assert "/items/1/details/note" in problem(batch, 422, "validation-failed")["errors"][0]["reason"]
    stored = await client.get(f"{CASES}/{case_id}/activities", headers=tenant_a.headers())
    assert stored.json()["items"] == []


# Found by the fuzzer (schemathesis): inputs the schema calls invalid that were silently accepted, and
# inputs it calls valid that were refused.


@pytest.mark.parametrize("value", ["0", "0.0", "20260105", "2026-1-5"])
async def test_a_date_in_the_query_is_yyyy_mm_dd_only(
    client: httpx.AsyncClient, tenant_a: TenantKeys, value: str
) -> None:
    response = await client.get("/api/v1/deadlines", params={"due_from": value}, headers=tenant_a.headers())
    assert problem(response, 422, "validation-failed")["errors"][0]["pointer"] == "#/query/due_from"


@pytest.mark.parametrize("value", [0, 1.5, "0", "2026-01-05T00:00:00"])
async def test_a_date_in_a_body_is_yyyy_mm_dd_only(
    client: httpx.AsyncClient, tenant_a: TenantKeys, value: object
) -> None:
    body = {"employee": {"external_ref": "E-1", "display_name": "x"}, "first_sick_day": value}
    response = await client.post(CASES, json=body, headers=tenant_a.headers())
    assert problem(response, 422, "validation-failed")["errors"][0]["pointer"] == "#/first_sick_day"


async def test_a_timestamp_is_rfc_3339_text_only(client: httpx.AsyncClient, tenant_a: TenantKeys) -> None:
    headers = tenant_a.headers(Role.admin)
    refused = await client.get("/api/v1/audit-events", params={"since": "0"}, headers=headers)
    assert problem(refused, 422, "validation-failed")["errors"][0]["pointer"] == "#/query/since"
    taken = await client.get(
        "/api/v1/audit-events", params={"since": "2026-01-05T09:30:00Z"}, headers=headers
    )
    assert taken.status_code == 200
    # Found by the fuzzer: a far offset pushed the time out of range once in UTC, and the query answered 500.
    for far in ("9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"):
        for name in ("since", "until"):
            response = await client.get("/api/v1/audit-events", params={name: far}, headers=headers)
            assert problem(response, 422, "validation-failed")["errors"][0]["pointer"] == f"#/query/{name}"


def forged_cursor(position: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("path", "keys"),
    [
        ("/api/v1/cases", ("created_at", "id")),
        ("/api/v1/deadlines", ("due_on", "id")),
        ("/api/v1/audit-events", ("at", "id")),
        ("/api/v1/cases/{case_id}/activities", ("occurred_on", "id")),
    ],
)
async def test_a_cursor_with_the_right_keys_but_not_our_values_is_refused(
    client: httpx.AsyncClient, tenant_a: TenantKeys, path: str, keys: tuple[str, str]
) -> None:
    """The keys match, the values are not what this API writes: 422, not a 500 from the parser or the
    database."""
    headers = tenant_a.headers(Role.admin)
    case_id = (
        await client.post(
            CASES, json={"employee": {"external_ref": "E"}, "first_sick_day": "2026-01-05"}, headers=headers
        )
    ).json()["id"]
    url = path.format(case_id=case_id)
    when, _ = keys
    for position in (
        {when: "2026-01-05", "id": "not-a-uuid"},
        {when: "yesterday", "id": "01a20b8c-c6d0-759d-8de3-27c6760c93f4"},
        {when: 20260105, "id": "01a20b8c-c6d0-759d-8de3-27c6760c93f4"},
        {when: "9999-12-31T23:59:59-23:59", "id": "01a20b8c-c6d0-759d-8de3-27c6760c93f4"},
    ):
        response = await client.get(url, params={"cursor": forged_cursor(position)}, headers=headers)
        assert problem(response, 422, "validation-failed")["errors"][0]["pointer"] == "#/query/cursor", (
            position
        )


async def test_unknown_and_repeated_query_parameters_are_refused(
    client: httpx.AsyncClient, tenant_a: TenantKeys
) -> None:
    headers = tenant_a.headers()
    typo = await client.get(CASES + "?stauts=open", headers=headers)
    [error] = problem(typo, 422, "validation-failed")["errors"]
    assert error["pointer"] == "#/query/stauts" and error["type"] == "unknown_parameter"
    twice = await client.get(CASES + "?status=open&status=closed", headers=headers)
    [error] = problem(twice, 422, "validation-failed")["errors"]
    assert error["pointer"] == "#/query/status" and error["type"] == "repeated"
    # Text is a sequence of characters, yet one value (found by the fuzzer).
    text_twice = await client.get("/api/v1/deadlines?case_manager=a&case_manager=b", headers=headers)
    [error] = problem(text_twice, 422, "validation-failed")["errors"]
    assert error["pointer"] == "#/query/case_manager" and error["type"] == "repeated"
    # A parameter that takes a list may repeat.
    kinds = await client.get("/api/v1/deadlines?status=due_soon&status=overdue&limit=5", headers=headers)
    assert kinds.status_code == 200, kinds.text


def test_the_schema_says_stripped_text_needs_a_visible_character(app: FastAPI) -> None:
    """The documented pattern refuses exactly the text the service strips to nothing: every character
    Python's str.strip() removes, including \x1c-\x1f and \x85 that a JSON Schema \\S would let
    through (found by the fuzzer), and keeps what it does not strip."""
    import sys

    import jsonschema_rs

    employee = app.openapi()["components"]["schemas"]["Employee"]["properties"]["external_ref"]
    assert employee["minLength"] == 1
    schema = jsonschema_rs.Draft202012Validator({"type": "string", "pattern": employee["pattern"]})
    stripped = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    assert not any(schema.is_valid(text) for text in [*stripped, "".join(stripped)])
    for kept in ["a", " a ", "\ufeff", "\u200b", "\x1b"]:
        assert kept.strip() and schema.is_valid(kept), repr(kept)
