"""Medical segregation (A3), the append-only audit log (A6), key management and data-subject rights."""

from __future__ import annotations

import logging
import uuid
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.employees.service import purge_closed_before
from app.models.tenants import Role
from app.security import KeyCache
from tests.api.scenario import Api, contact_item
from tests.conftest import CommittedWorld, TenantKeys

MARKER = "MedicalMarker-Hernia-4711"
NAME = "Zeta Q. Uniquename"
REF = "EMP-UNIQUE-9931"


async def physician_case(client: httpx.AsyncClient, tenant: TenantKeys) -> tuple[Api, str, str]:
    api = Api(client, tenant)
    case = await api.open_case("2026-01-05", employee={"external_ref": REF, "display_name": NAME})
    body = {
        "kind": "problem_analysis",
        "occurred_on": "2026-02-10",
        "details": {"functional_limitations": "No lifting"},
        "medical": {"diagnosis": MARKER, "treatment": "physiotherapy"},
    }
    created = await api.call(
        "POST", f"/cases/{case['id']}/activities", json=body, role=Role.occupational_physician, expect=201
    )
    assert created.json()["medical"]["diagnosis"] == MARKER
    return api, case["id"], created.json()["id"]


async def test_the_medical_part_reaches_the_physician_only(
    client: httpx.AsyncClient, tenant_a: TenantKeys, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        api, case_id, activity_id = await physician_case(client, tenant_a)
        urls = [
            f"/cases/{case_id}/activities",
            f"/activities/{activity_id}",
            f"/cases/{case_id}",
            f"/cases/{case_id}/timeline",
            "/deadlines",
            "/audit-events",
            f"/employees/{REF}/export",
        ]
        for role in Role:
            for url in urls:
                response = await api.call("GET", url, role=role)
                if response.status_code == 403 or (role is Role.coach and response.status_code == 404):
                    continue  # not this role's to read, or (coach) not a case of the coach's provider
                assert response.status_code == 200, (role, url, response.text)
                if role is Role.occupational_physician and "activities" in url:
                    assert MARKER in response.text, url
                else:
                    assert MARKER not in response.text, (role, url)
    service_log = "\n".join(str(r.__dict__) for r in caplog.records if not r.name.startswith("httpx"))
    assert MARKER not in service_log


async def test_only_the_physician_writes_a_medical_part(
    client: httpx.AsyncClient, tenant_a: TenantKeys
) -> None:
    api = Api(client, tenant_a)
    case_id = (await api.open_case())["id"]
    body = {"kind": "employee_contact", "occurred_on": "2026-01-08", "medical": {"notes": MARKER}}
    refused = await api.call("POST", f"/cases/{case_id}/activities", json=body, role=Role.case_manager)
    assert refused.status_code == 403
    wrong_kind = await api.call(
        "POST", f"/cases/{case_id}/activities", json=body, role=Role.occupational_physician
    )
    assert wrong_kind.status_code == 422 and wrong_kind.json()["rule"] == "A3"


async def test_a_batch_stores_the_physicians_medical_parts_apart(
    client: httpx.AsyncClient, tenant_a: TenantKeys
) -> None:
    """A physician's batch keeps each medical part as a single POST does: the physician reads it back on
    the activity, no other role sees it, and the batch's own answer carries none. Another role's item with
    a medical part is refused (A3) without losing the batch's other items."""
    api = Api(client, tenant_a)
    case_id = (await api.open_case("2026-01-05"))["id"]

    def analysis(n: int, **extra: Any) -> dict[str, Any]:
        return {
            "case_id": case_id,
            "kind": "problem_analysis",
            "occurred_on": "2026-02-10",
            "details": {"functional_limitations": "No lifting"},
            "external_id": f"analysis-{n}",
            **extra,
        }

    items = [analysis(1, medical={"diagnosis": MARKER}), analysis(2)]
    answer = await api.call(
        "POST", "/activities/batch", json={"items": items}, role=Role.occupational_physician, expect=200
    )
    assert MARKER not in answer.text
    with_part, without_part = (result["activity_id"] for result in answer.json()["results"])
    for role in Role:
        response = await api.call("GET", f"/activities/{with_part}", role=role)
        if response.status_code in (403, 404):
            continue  # not this role's to read (a coach reads its own provider's tracks only)
        assert response.status_code == 200, (role, response.text)
        if role is Role.occupational_physician:
            assert response.json()["medical"]["diagnosis"] == MARKER
        else:
            assert MARKER not in response.text, role
    unmarked = await api.call("GET", f"/activities/{without_part}", role=Role.occupational_physician)
    assert "medical" not in unmarked.json()

    refused = await api.call(
        "POST",
        "/activities/batch",
        json={"items": [contact_item(case_id, 3, medical={"notes": MARKER}), contact_item(case_id, 4)]},
        role=Role.case_manager,
        expect=200,
    )
    first, second = refused.json()["results"]
    assert (first["status"], first["problem"]["code"]) == ("error", "forbidden")
    assert second["status"] == "created"


async def test_the_audit_log_cannot_be_changed(
    client: httpx.AsyncClient, db: AsyncSession, tenant_a: TenantKeys
) -> None:
    api = Api(client, tenant_a)
    await api.open_case()
    for statement in (
        "UPDATE audit_events SET outcome = 'x'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with db.begin_nested():
                await db.execute(text(statement))


async def test_every_write_appears_once(client: httpx.AsyncClient, tenant_a: TenantKeys) -> None:
    api = Api(client, tenant_a)
    case_id = (await api.open_case())["id"]
    track = (await api.start_track(case_id, "track_1", "2026-02-01")).json()
    await api.activity(
        case_id,
        "job_inventory",
        "2026-02-02",
        track_id=track["id"],
        roles_considered=[{"role": "Planner", "suitable": True}],
    )
    await api.move(track["id"], "resumption", "2026-02-03")
    await api.call("PATCH", f"/cases/{case_id}", json={"case_manager": "anna"}, headers={"If-Match": '"1"'})
    refused = await api.move(track["id"], "completion", "2026-02-04", expect=None)
    assert refused.status_code == 409
    events = (
        await api.call("GET", "/audit-events", role=Role.admin, params={"limit": 500}, expect=200)
    ).json()
    writes = [(e["action"], e["outcome"]) for e in events["items"] if e["method"] != "GET"]
    assert sorted(writes) == sorted(
        [
            ("open_case", "success"),
            ("start_track", "success"),
            ("record_activity", "success"),
            ("transition", "success"),
            ("update_case", "success"),
            ("transition", "rule-violated"),
        ]
    )
    patch = next(e for e in events["items"] if e["action"] == "update_case")
    assert patch["changed_fields"] == ["case_manager"] and patch["resource_id"] == case_id
    assert "anna" not in str(events)  # names of fields, never values
    reads = [e for e in events["items"] if e["action"] == "list_audit_events"]
    assert reads == []  # the read that lists them is committed with its own response


async def test_key_rotation_revocation_and_last_use(client: httpx.AsyncClient, tenant_a: TenantKeys) -> None:
    api = Api(client, tenant_a)
    made = await api.call(
        "POST", "/api-keys", json={"name": "sync", "role": "integration"}, role=Role.admin, expect=201
    )
    old = made.json()
    old_headers = {"Authorization": f"Bearer {old['key']}"}
    assert (await client.get("/api/v1/cases", headers=old_headers)).status_code == 200
    rotated = await api.call(
        "POST",
        f"/api-keys/{old['id']}/rotation",
        json={"old_key_expires_in_hours": 1},
        role=Role.admin,
        expect=201,
    )
    new_headers = {"Authorization": f"Bearer {rotated.json()['key']}"}
    # Two live keys while clients switch over.
    assert (await client.get("/api/v1/cases", headers=old_headers)).status_code == 200
    assert (await client.get("/api/v1/cases", headers=new_headers)).status_code == 200
    listed = (await api.call("GET", "/api-keys", role=Role.admin, expect=200)).json()["items"]
    by_id = {k["id"]: k for k in listed}
    assert by_id[old["id"]]["expires_at"] is not None and by_id[old["id"]]["last_used_at"] is not None
    assert "key" not in by_id[old["id"]]  # the secret is never listed
    await api.call("DELETE", f"/api-keys/{rotated.json()['id']}", role=Role.admin, expect=204)
    assert (await client.get("/api/v1/cases", headers=new_headers)).status_code == 401
    coach = await api.call("POST", "/api-keys", json={"name": "c", "role": "coach"}, role=Role.admin)
    assert coach.status_code == 422


async def test_export_and_erasure_round_trip(
    client: httpx.AsyncClient, db: AsyncSession, tenant_a: TenantKeys
) -> None:
    api, case_id, _ = await physician_case(client, tenant_a)
    await api.activity(case_id, "employee_contact", "2026-01-09")
    await api.call(
        "POST",
        f"/cases/{case_id}/activities",
        expect=201,
        headers={"Idempotency-Key": "k1"},
        json={
            "kind": "employee_view",
            "occurred_on": "2026-01-10",
            "summary": f"{NAME} agrees",
            "details": {"view": f"{NAME} says yes"},
        },
    )
    exported = (await api.call("GET", f"/employees/{REF}/export", role=Role.admin, expect=200)).json()
    assert exported["cases"][0]["employee_display_name"] == NAME
    assert len(exported["cases"][0]["activities"]) == 3
    assert MARKER not in str(exported)  # an admin's export has no medical part

    erased = (await api.call("POST", f"/employees/{REF}/erasure", role=Role.admin, expect=200)).json()
    assert erased["cases"] == 1 and erased["activities"] == 3
    for value in (NAME, REF, MARKER):
        for (table,) in (
            await db.execute(
                text(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
                )
            )
        ).all():
            hits = (
                await db.execute(
                    text(f'SELECT count(*) FROM "{table}" t WHERE t::text LIKE :v'), {"v": f"%{value}%"}
                )
            ).scalar_one()
            assert hits == 0, (value, table)
    # The statistics stay: the case, its dates, its activities' kinds.
    case = (await api.call("GET", f"/cases/{case_id}", expect=200)).json()
    assert case["employee"]["external_ref"] == erased["pseudonym"] and case["first_sick_day"] == "2026-01-05"
    kinds = [
        a["kind"] for a in (await api.call("GET", f"/cases/{case_id}/activities", expect=200)).json()["items"]
    ]
    assert sorted(kinds) == ["employee_contact", "employee_view", "problem_analysis"]


async def test_retention_purges_cases_closed_long_ago(
    client: httpx.AsyncClient, db: AsyncSession, tenant_a: TenantKeys
) -> None:
    api = Api(client, tenant_a)
    case = await api.open_case(
        "2026-01-05", employee={"external_ref": REF, "display_name": NAME}, employment_ends_on="2026-02-01"
    )
    assert (await api.call("GET", f"/cases/{case['id']}", expect=200)).json()["status"] == "closed"
    assert await purge_closed_before(db, date(2026, 2, 1)) == 0
    assert await purge_closed_before(db, date(2028, 3, 1)) == 1
    after = (await api.call("GET", f"/cases/{case['id']}", expect=200)).json()
    assert after["employee"]["display_name"] is None and after["employee"]["external_ref"].startswith(
        "erased-"
    )


async def test_rate_limit_answers_429_with_retry_after(
    settings: Settings, db: AsyncSession, tenant_a: TenantKeys
) -> None:
    from app.main import create_app

    app = create_app(settings.model_copy(update={"rate_limit": "3/minute"}), migrate_on_start=False)
    from sqlalchemy.ext.asyncio import async_sessionmaker

    app.state.sessionmaker = async_sessionmaker(
        bind=db.bind, expire_on_commit=False, autoflush=False, join_transaction_mode="create_savepoint"
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        statuses = [
            (await client.get("/api/v1/cases", headers=tenant_a.headers())).status_code for _ in range(4)
        ]
        limited = await client.get("/api/v1/cases", headers=tenant_a.headers())
        other_key = await client.get("/api/v1/cases", headers=tenant_a.headers(Role.viewer))
    assert statuses == [200, 200, 200, 429]
    assert limited.json()["code"] == "rate-limited" and int(limited.headers["retry-after"]) >= 1
    assert other_key.status_code == 200  # per key


async def test_reports_carry_the_medical_part_for_the_physician_only(
    client: httpx.AsyncClient, tenant_a: TenantKeys
) -> None:
    api, case_id, _ = await physician_case(client, tenant_a)
    track = (
        await api.start_track(case_id, "track_2", "2026-06-01", provider=f"{tenant_a.slug} provider")
    ).json()
    reports = [
        (f"/cases/{case_id}/reports/reintegration", True),
        (f"/cases/{case_id}/reports/compliance", False),
        (f"/tracks/{track['id']}/reports/progress", False),
        (f"/tracks/{track['id']}/reports/final", False),
        (f"/cases/{case_id}/timeline.svg", False),
    ]
    for url, holds_documents in reports:
        for accept in ("application/json", "text/html"):
            for role in Role:
                response = await api.call("GET", url, role=role, headers={"Accept": accept})
                if response.status_code in (403, 404):
                    continue  # not this role's report (or, for a coach, not its provider's case)
                assert response.status_code == 200, (url, role, response.text)
                expected = holds_documents and role is Role.occupational_physician
                assert (MARKER in response.text) is expected, (url, accept, role)


async def test_a_refused_request_with_a_malformed_id_is_audited_without_it(
    client: httpx.AsyncClient, tenant_a: TenantKeys
) -> None:
    # Found by the fuzzer: a long non-UUID path segment overflowed the audit column and answered 500.
    api = Api(client, tenant_a)
    garbage = "Zalgo-" + "ẗ̸̢" * 60 + "-" + NAME
    refused = await api.call("POST", f"/cases/{garbage}/tracks", json={"kind": "track_1"}, expect=None)
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    events = (
        await api.call("GET", "/audit-events", role=Role.admin, params={"limit": 500}, expect=200)
    ).json()
    [entry] = [e for e in events["items"] if e["action"] == "start_track"]
    assert entry["outcome"] == "validation-failed" and entry["resource_type"] == "case"
    assert entry["resource_id"] is None  # the client's free text is not kept
    assert NAME not in str(events)


async def test_a_refused_body_with_odd_field_names_is_audited_without_them(
    client: httpx.AsyncClient, tenant_a: TenantKeys
) -> None:
    # Found by the fuzzer: a field name with a NUL character reached the audit insert and answered 500.
    api = Api(client, tenant_a)
    body = {"name": "sync", "role": "viewer", "bad\u0000name": 1, NAME: "x"}
    refused = await api.call("POST", "/api-keys", json=body, role=Role.admin, expect=None)
    assert refused.status_code == 422
    events = (
        await api.call("GET", "/audit-events", role=Role.admin, params={"limit": 500}, expect=200)
    ).json()
    [entry] = [e for e in events["items"] if e["action"] == "create_api_key"]
    assert entry["outcome"] == "validation-failed"
    assert entry["changed_fields"] == ["name", "role"]


async def test_a_client_gone_before_its_body_arrived_is_audited_not_an_error(
    app: FastAPI, client: httpx.AsyncClient, tenant_a: TenantKeys, caplog: pytest.LogCaptureFixture
) -> None:
    # Seen at the end of a load run: wrk closed its connections mid-request, and writing the refusal's
    # audit entry read the body again, which raised ClientDisconnect: an unhandled error per connection.
    headers = [(name.lower().encode(), value.encode()) for name, value in tenant_a.headers().items()]
    headers += [(b"content-type", b"application/json"), (b"content-length", b"64")]
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/api/v1/cases", "raw_path": b"/api/v1/cases", "query_string": b"",
        "headers": headers, "client": ("127.0.0.1", 1), "server": ("testserver", 80), "root_path": "",
    }  # fmt: skip

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with caplog.at_level(logging.ERROR):
        await app(scope, receive, send)
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 422  # an unreadable body
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    events = (
        await Api(client, tenant_a).call(
            "GET", "/audit-events", role=Role.admin, params={"limit": 500}, expect=200
        )
    ).json()
    [entry] = [e for e in events["items"] if e["action"] == "open_case"]
    assert entry["outcome"] == "validation-failed" and entry["changed_fields"] == []


async def test_reads_and_activity_posts_leave_exactly_one_entry_each(
    client: httpx.AsyncClient, tenant_a: TenantKeys, tenant_b: TenantKeys
) -> None:
    """The case and timeline reads, the two lists and the activity POST write their success entry with
    their own statement (`take_success_entry`); a refusal, before or after that statement, still leaves
    exactly one entry, its own, and another tenant's case answers 404 whatever the body was."""
    api = Api(client, tenant_a)
    case_id = (await api.open_case())["id"]
    foreign_id = (await Api(client, tenant_b).open_case())["id"]
    contact = {"kind": "employee_contact", "occurred_on": "2026-02-02", "external_id": "audit-once-1"}
    notification = {"kind": "occupational_health_notification", "occurred_on": "2026-01-07"}  # T1's input
    requests: list[tuple[str, str, dict[str, Any] | None, int, str]] = [
        ("GET", f"/cases/{case_id}", None, 200, "success"),
        ("GET", f"/cases/{case_id}/timeline", None, 200, "success"),
        ("GET", f"/cases/{foreign_id}", None, 404, "not-found"),
        ("GET", f"/cases/{foreign_id}/timeline?as_of=never", None, 404, "not-found"),
        ("GET", f"/cases/{case_id}/timeline?as_of=never", None, 422, "validation-failed"),
        ("POST", f"/cases/{case_id}/activities", contact, 201, "success"),
        ("POST", f"/cases/{case_id}/activities", contact, 200, "success"),  # the stored one (A5)
        ("POST", f"/cases/{case_id}/activities", {**contact, "summary": "other"}, 409, "conflict"),
        ("POST", f"/cases/{case_id}/activities", notification, 201, "success"),  # then a refresh
        ("POST", f"/cases/{foreign_id}/activities", {}, 404, "not-found"),
        ("POST", f"/cases/{foreign_id}/activities", contact, 404, "not-found"),
        ("POST", f"/cases/{case_id}/activities", {}, 422, "validation-failed"),
        ("GET", "/cases?has_overdue=true&limit=2", None, 200, "success"),
        ("GET", "/cases?cursor=not-a-cursor", None, 422, "validation-failed"),
        ("GET", "/deadlines?status=overdue&limit=2", None, 200, "success"),
        ("GET", "/deadlines?limit=0", None, 422, "validation-failed"),
    ]  # fmt: skip
    for number, (method, path, body, status, _) in enumerate(requests):
        response = await client.request(
            method,
            f"/api/v1{path}",
            json=body,
            headers={**tenant_a.headers(), "X-Request-ID": f"audit-once-{number}"},
        )
        assert response.status_code == status, (path, response.text)
    events = (
        await api.call("GET", "/audit-events", role=Role.admin, params={"limit": 500}, expect=200)
    ).json()["items"]
    for number, (method, path, _, _, outcome) in enumerate(requests):
        entries = [e for e in events if e["request_id"] == f"audit-once-{number}"]
        assert [(e["method"], e["outcome"]) for e in entries] == [(method, outcome)], (path, entries)
        if path.startswith("/cases/"):
            resource = ("case", foreign_id if foreign_id in path else case_id)
        else:  # a list is about no one resource
            resource = (None, None)
        assert (entries[0]["resource_type"], entries[0]["resource_id"]) == resource, entries


async def test_reads_on_pooled_connections_leave_exactly_one_entry_each(committed: CommittedWorld) -> None:
    """As the service runs (each request on the pool, no test transaction around it): the reads' last
    statement runs on a connection of its own (`closing_connection`) and commits their entry there."""
    # Keys cached as deployed (the tests' default is off): the key lookup then opens no transaction, and
    # the read's statement is the first of its request.
    committed.app.state.key_cache = KeyCache(60.0)
    api = Api(committed.client, committed.tenant)
    case_id = (await api.open_case())["id"]
    reads = [
        f"/cases/{case_id}",
        f"/cases/{case_id}/timeline",
        "/cases?has_overdue=false&limit=2",
        "/deadlines?status=upcoming&limit=2",
    ]
    for number, path in enumerate(reads):
        response = await committed.client.get(
            f"/api/v1{path}",
            headers={**committed.tenant.headers(), "X-Request-ID": f"pooled-read-{number}"},
        )
        assert response.status_code == 200, (path, response.text)
    events = (
        await api.call("GET", "/audit-events", role=Role.admin, params={"limit": 500}, expect=200)
    ).json()["items"]
    for number, path in enumerate(reads):
        entries = [e for e in events if e["request_id"] == f"pooled-read-{number}"]
        assert [(e["method"], e["outcome"]) for e in entries] == [("GET", "success")], (path, entries)


async def test_activity_posts_on_pooled_connections_leave_exactly_one_entry_each(
    committed: CommittedWorld,
) -> None:
    """As the service runs: a POST of an activity checked against the case as read (no lock) runs its case
    read and insert on a connection of its own (`closing_connection`). Each answer, new, replayed or
    refused, leaves exactly one entry, and only the new activity is stored."""
    committed.app.state.key_cache = KeyCache(60.0)
    api = Api(committed.client, committed.tenant)
    case_id = (await api.open_case("2026-01-05"))["id"]
    contact = {"kind": "employee_contact", "occurred_on": "2026-01-09", "summary": "Call"}
    posts = [  # (path, body, status, outcome)
        (f"/cases/{case_id}/activities", {**contact, "external_id": "pooled-1"}, 201, "success"),
        # The case's snapshot is cached now: the same checks without reading the case again.
        (f"/cases/{case_id}/activities", {**contact, "external_id": "pooled-1"}, 200, "success"),
        (f"/cases/{case_id}/activities", {**contact, "occurred_on": "2025-12-01"}, 409, None),
        (f"/cases/{uuid.uuid4()}/activities", contact, 404, "not-found"),
    ]
    for number, (path, body, status, _) in enumerate(posts):
        response = await committed.client.post(
            f"/api/v1{path}",
            json=body,
            headers={**committed.tenant.headers(), "X-Request-ID": f"pooled-post-{number}"},
        )
        assert response.status_code == status, (path, body, response.text)
        if number == 2:
            refusal_code = response.json()["code"]
    events = (
        await api.call("GET", "/audit-events", role=Role.admin, params={"limit": 500}, expect=200)
    ).json()["items"]
    for number, (path, body, _, outcome) in enumerate(posts):
        entries = [e for e in events if e["request_id"] == f"pooled-post-{number}"]
        expected = outcome or refusal_code
        assert [(e["method"], e["outcome"]) for e in entries] == [("POST", expected)], (body, entries)
    stored = (await api.call("GET", f"/cases/{case_id}/activities", expect=200)).json()["items"]
    assert [a["external_id"] for a in stored] == ["pooled-1"]
