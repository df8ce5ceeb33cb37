"""Authentication: every bad-key variant answers 401 problem; a good key answers 200."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.tenants import ApiKey, Role
from app.security import generate_key, hash_key
from app.tenants.service import issue_key
from tests.conftest import TenantKeys

CASES = "/api/v1/cases"


def assert_unauthenticated(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "unauthenticated"
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_live_key_is_accepted(client: httpx.AsyncClient, tenant_a: TenantKeys) -> None:
    response = await client.get(CASES, headers=tenant_a.headers(Role.viewer))
    assert response.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="missing"),
        pytest.param({"Authorization": "Basic dXNlcjpwYXNz"}, id="not-bearer"),
        pytest.param({"Authorization": "Bearer"}, id="bearer-without-key"),
        pytest.param({"Authorization": "Bearer not-a-key"}, id="malformed"),
        pytest.param({"Authorization": "Bearer pwk_short"}, id="malformed-prefix"),
        pytest.param({"Authorization": f"Bearer {generate_key()}"}, id="unknown"),
    ],
)
async def test_bad_keys_are_refused(client: httpx.AsyncClient, tenant_a: TenantKeys, headers: dict) -> None:
    assert_unauthenticated(await client.get(CASES, headers=headers))


async def test_an_expired_key_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, tenant_a: TenantKeys
) -> None:
    _, secret = await issue_key(
        db, tenant_a.tenant_id, Role.viewer, "expired", expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    assert_unauthenticated(await client.get(CASES, headers={"Authorization": f"Bearer {secret}"}))


async def test_a_revoked_key_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, tenant_a: TenantKeys
) -> None:
    key, secret = await issue_key(db, tenant_a.tenant_id, Role.viewer, "to revoke")
    headers = {"Authorization": f"Bearer {secret}"}
    assert (await client.get(CASES, headers=headers)).status_code == 200
    await db.execute(update(ApiKey).where(ApiKey.id == key.id).values(revoked_at=datetime.now(UTC)))
    assert_unauthenticated(await client.get(CASES, headers=headers))


async def test_only_the_hash_of_a_key_is_stored(db: AsyncSession, tenant_a: TenantKeys) -> None:
    key, secret = await issue_key(db, tenant_a.tenant_id, Role.viewer, "hash check")
    assert key.key_hash == hash_key(secret)
    assert secret not in (key.key_hash, key.key_prefix)


async def test_a_forbidden_role_gets_403(client: httpx.AsyncClient, tenant_a: TenantKeys) -> None:
    body = {"employee": {"external_ref": "E-1"}, "first_sick_day": "2026-01-05"}
    response = await client.post(CASES, json=body, headers=tenant_a.headers(Role.viewer))
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


async def test_the_key_cache_trusts_a_key_briefly_and_forgets_revoked_ones(
    settings, db: AsyncSession, tenant_a: TenantKeys
) -> None:
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from app.main import create_app

    app = create_app(settings.model_copy(update={"auth_cache_seconds": 60}), migrate_on_start=False)
    app.state.sessionmaker = async_sessionmaker(
        bind=db.bind, expire_on_commit=False, autoflush=False, join_transaction_mode="create_savepoint"
    )
    admin = tenant_a.headers(Role.admin)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        made = (
            await client.post("/api/v1/api-keys", json={"name": "n", "role": "viewer"}, headers=admin)
        ).json()
        headers = {"Authorization": f"Bearer {made['key']}"}
        assert (await client.get(CASES, headers=headers)).status_code == 200
        # Revoked behind the service's back: trusted from the cache until it expires.
        await db.execute(update(ApiKey).where(ApiKey.id == made["id"]).values(revoked_at=datetime.now(UTC)))
        assert (await client.get(CASES, headers=headers)).status_code == 200
        # Revoked through the API: refused at once.
        assert (await client.delete(f"/api/v1/api-keys/{made['id']}", headers=admin)).status_code == 204
        assert_unauthenticated(await client.get(CASES, headers=headers))
