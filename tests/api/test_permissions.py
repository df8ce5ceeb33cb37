"""Generated from the route table, so a new route is covered without anyone remembering:
every operation is in the permission table; each role gets exactly what the table says; tenant B's
keys get 404 on tenant A's resources, for every operation that names one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app import openapi_file
from app.calendar.schemas import CalendarFeedCreate
from app.calendar.service import create_feed
from app.models.tenants import Role
from app.models.webhooks import WebhookEndpoint
from app.permissions import PERMISSIONS, markdown_table
from app.tenants.service import issue_key
from tests.api.scenario import Api
from tests.conftest import TenantKeys

SPEC = openapi_file.generated_spec()
OPERATIONS = [
    (method.upper(), path, operation["operationId"])
    for path, methods in SPEC["paths"].items()
    if path.startswith("/api/v1/")
    for method, operation in methods.items()
]
PARAM = re.compile(r"{(\w+)}")


def test_every_operation_is_in_the_permission_table() -> None:
    missing = sorted({op for _, _, op in OPERATIONS} - set(PERMISSIONS))
    assert missing == [], f"add these operations to app/permissions.py: {missing}"
    stale = sorted(set(PERMISSIONS) - {op for _, _, op in OPERATIONS})
    assert stale == [], f"the permission table names operations that do not exist: {stale}"


def test_the_readme_shows_the_permission_table() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert markdown_table() in readme, (
        "README.md's permission table is stale: paste app.permissions.markdown_table()"
    )


@dataclass
class World:
    ids: dict[str, str]


async def build(api: Api, db: AsyncSession, tenant: TenantKeys) -> World:
    case = await api.open_case("2026-01-05", employee={"external_ref": "E-PERM"})
    track = (
        await api.start_track(case["id"], "track_2", "2026-06-01", provider=f"{tenant.slug} provider")
    ).json()
    activity = (await api.activity(case["id"], "intake_meeting", "2026-06-02", track_id=track["id"])).json()
    periods = (await api.call("GET", f"/cases/{case['id']}/sickness-periods", expect=200)).json()["items"]
    spare_key, _ = await issue_key(db, tenant.tenant_id, Role.viewer, "spare")
    endpoint = WebhookEndpoint(
        tenant_id=tenant.tenant_id,
        url="https://hooks.example.com/",
        event_types=["case.opened"],
        secret="whsec_c2VjcmV0",
    )
    feed, _ = await create_feed(db, tenant.tenant_id, CalendarFeedCreate(case_manager="m.jansen"))
    db.add(endpoint)
    await db.flush()
    return World(
        ids={
            "case_id": case["id"],
            "track_id": track["id"],
            "activity_id": activity["id"],
            "period_id": periods[0]["id"],
            "key_id": str(spare_key.id),
            "employee_ref": "E-PERM",
            "endpoint_id": str(endpoint.id),
            "feed_id": str(feed.id),
        }
    )


def fill(path: str, world: World) -> str:
    return "/api" + PARAM.sub(lambda m: world.ids[m.group(1)], path)[len("/api") :]


async def call(client: httpx.AsyncClient, method: str, url: str, headers: dict[str, str]) -> httpx.Response:
    body = {} if method in ("POST", "PUT", "PATCH") else None
    return await client.request(method, url, json=body, headers={**headers, "If-Match": '"999"'})


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=[op for _, _, op in OPERATIONS])
async def test_each_role_gets_what_the_table_says(
    client: httpx.AsyncClient, db: AsyncSession, tenant_a: TenantKeys, method: str, path: str, operation: str
) -> None:
    world = await build(Api(client, tenant_a), db, tenant_a)
    url = fill(path, world)
    # Refused roles first: an allowed call may change what the next one finds (erasure, revocation).
    for role in sorted(Role, key=lambda r: r in PERMISSIONS[operation]):
        response = await call(client, method, url, tenant_a.headers(role))
        if role in PERMISSIONS[operation]:
            assert response.status_code != 403, (role, response.text)
            assert response.status_code < 500, (role, response.text)
        else:
            assert response.status_code == 403, (role, response.status_code, response.text)
            assert response.json()["code"] == "forbidden"


OPERATIONS_WITH_IDS = [op for op in OPERATIONS if PARAM.search(op[1])]


@pytest.mark.parametrize(
    ("method", "path", "operation"), OPERATIONS_WITH_IDS, ids=[op for _, _, op in OPERATIONS_WITH_IDS]
)
async def test_another_tenants_resource_is_not_found(
    client: httpx.AsyncClient,
    db: AsyncSession,
    tenant_a: TenantKeys,
    tenant_b: TenantKeys,
    method: str,
    path: str,
    operation: str,
) -> None:
    world = await build(Api(client, tenant_a), db, tenant_a)
    url = fill(path, world)
    for role in Role:
        response = await call(client, method, url, tenant_b.headers(role))
        assert response.status_code == 404, (role, response.status_code, response.text)
        assert response.json()["code"] == "not-found"


async def test_a_coach_reads_only_the_cases_of_its_providers_tracks(
    client: httpx.AsyncClient, tenant_a: TenantKeys
) -> None:
    """The case and timeline reads filter by tenant in their own statement (`SELF_SCOPED`); a coach
    key's provider scope still holds on them: a case of the same tenant without a track of the coach's
    provider answers 404, as does one whose Track 2 another provider runs."""
    api = Api(client, tenant_a)
    own = await api.open_case("2026-01-05", employee={"external_ref": "E-COACH-1"})
    await api.start_track(own["id"], "track_2", "2026-06-01", provider=f"{tenant_a.slug} provider")
    others = await api.open_case("2026-01-05", employee={"external_ref": "E-COACH-2"})
    await api.start_track(others["id"], "track_2", "2026-06-01", provider="Another provider BV")
    untracked = await api.open_case("2026-01-05", employee={"external_ref": "E-COACH-3"})
    coach = tenant_a.headers(Role.coach)
    for path in ("/api/v1/cases/{id}", "/api/v1/cases/{id}/timeline"):
        assert (await client.get(path.format(id=own["id"]), headers=coach)).status_code == 200, path
        for hidden in (others, untracked):
            response = await client.get(path.format(id=hidden["id"]), headers=coach)
            assert response.status_code == 404, (path, response.text)
            assert response.json()["code"] == "not-found"
            seen = await client.get(path.format(id=hidden["id"]), headers=tenant_a.headers(Role.viewer))
            assert seen.status_code == 200, path
