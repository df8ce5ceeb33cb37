"""Tenant isolation: another tenant's resources answer 404, never 403, and never appear in lists."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo import DEMO_CASES, seed_demo
from app.models.tenants import Role
from tests.api.scenario import Api
from tests.conftest import TenantKeys


async def test_tenant_b_cannot_see_tenant_as_demo_case(
    client: httpx.AsyncClient, db: AsyncSession, tenant_b: TenantKeys
) -> None:
    from datetime import date

    seed = await seed_demo(db, {}, date(2026, 11, 23))
    demo_headers = {"Authorization": f"Bearer {seed.keys['case_manager']}"}
    case_id = seed.case_ids[0]

    own = await client.get(f"/api/v1/cases/{case_id}", headers=demo_headers)
    assert own.status_code == 200

    for role in Role:
        other = await client.get(f"/api/v1/cases/{case_id}", headers=tenant_b.headers(role))
        assert other.status_code == 404, role
        assert other.json()["code"] == "not-found"
    patched = await client.patch(
        f"/api/v1/cases/{case_id}",
        json={"case_manager": "x"},
        headers={**tenant_b.headers(Role.admin), "If-Match": '"1"'},
    )
    assert patched.status_code == 404

    listed = await client.get("/api/v1/cases", headers=tenant_b.headers(Role.admin))
    assert listed.json()["items"] == []
    listed_demo = await client.get("/api/v1/cases", headers=demo_headers)
    assert len(listed_demo.json()["items"]) == len(DEMO_CASES)


async def test_demo_seeding_is_idempotent(db: AsyncSession) -> None:
    from datetime import date

    first = await seed_demo(db, {}, date(2026, 11, 23))
    second = await seed_demo(db, first.keys, date(2026, 11, 24))
    assert second.keys == first.keys
    assert second.case_ids == first.case_ids
    assert second.tenant_id == first.tenant_id


async def test_demo_cases_are_at_realistic_stages(client: httpx.AsyncClient, db: AsyncSession) -> None:
    from datetime import date

    seed = await seed_demo(db, {}, date(2026, 11, 23))
    headers = {"Authorization": f"Bearer {seed.keys['viewer']}"}
    detail = (await client.get(f"/api/v1/cases/{seed.case_ids[3]}", headers=headers)).json()
    assert [(t["kind"], t["phase"]) for t in detail["tracks"]] == [
        ("track_1", "resumption"),
        ("track_2", "active_search"),
    ]
    late = (await client.get(f"/api/v1/cases/{seed.case_ids[4]}", headers=headers)).json()
    assert "track_2_late" in {w["code"] for w in late["warnings"]}


async def test_the_database_refuses_an_activity_under_another_tenants_case(
    client: httpx.AsyncClient, db: AsyncSession, tenant_a: TenantKeys, tenant_b: TenantKeys
) -> None:
    """One foreign key on (case_id, tenant_id): whatever the code above it does, an activity is stored
    only under its own tenant's case."""
    case_id = (await Api(client, tenant_a).open_case("2026-01-05"))["id"]
    insert = text(
        "INSERT INTO activities (id, tenant_id, case_id, kind, occurred_on, content_hash, recorded_by_role)"
        " VALUES (:id, :tenant_id, :case_id, 'employee_contact', '2026-01-08', 'x', 'integration')"
    )
    with pytest.raises(IntegrityError, match="fk_activities_case_id_cases"):
        async with db.begin_nested():
            await db.execute(
                insert, {"id": uuid.uuid4(), "tenant_id": tenant_b.tenant_id, "case_id": case_id}
            )
    async with db.begin_nested():
        await db.execute(insert, {"id": uuid.uuid4(), "tenant_id": tenant_a.tenant_id, "case_id": case_id})
