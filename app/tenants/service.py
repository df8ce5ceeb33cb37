"""Tenants and API keys: create, and issue a key whose secret is returned once."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.errors import Conflict
from app.ids import new_id
from app.models.tenants import ApiKey, Role, Tenant
from app.security import generate_key, hash_key


async def create_tenant(session: AsyncSession, slug: str, name: str) -> Tenant:
    if (await session.execute(select(Tenant.id).where(Tenant.slug == slug))).first() is not None:
        raise Conflict(f"A tenant with slug {slug!r} exists.")
    tenant = Tenant(id=new_id(), slug=slug, name=name)
    session.add(tenant)
    await session.flush()
    return tenant


async def get_tenant_by_slug(session: AsyncSession, slug: str) -> Tenant | None:
    return (await session.execute(select(Tenant).where(Tenant.slug == slug))).scalar_one_or_none()


async def issue_key(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    role: Role,
    name: str,
    *,
    expires_at: datetime | None = None,
    provider: str | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; the secret is returned here and never again (only its hash is stored)."""
    secret = generate_key()
    key = ApiKey(
        id=new_id(),
        tenant_id=tenant_id,
        role=role.value,
        name=name,
        provider=provider,
        key_prefix=secret[:12],
        key_hash=hash_key(secret),
        expires_at=expires_at,
    )
    session.add(key)
    await session.flush()
    return key, secret


async def key_is_live(session: AsyncSession, tenant_id: uuid.UUID, secret: str) -> bool:
    row = (
        await session.execute(
            select(ApiKey.revoked_at, ApiKey.expires_at).where(
                ApiKey.key_hash == hash_key(secret), ApiKey.tenant_id == tenant_id
            )
        )
    ).one_or_none()
    return row is not None and row.revoked_at is None and row.expires_at is None
