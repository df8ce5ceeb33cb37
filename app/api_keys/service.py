"""Key management for admins: issue, list, rotate (two live keys for a while), revoke."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys.schemas import ApiKeyCreate
from app.domain.errors import InvalidInput, NotFound
from app.models.tenants import ApiKey, Role
from app.tenants.service import issue_key


async def create(session: AsyncSession, tenant_id: uuid.UUID, body: ApiKeyCreate) -> tuple[ApiKey, str]:
    if body.role is Role.coach and body.provider is None:
        raise InvalidInput(
            "A coach key belongs to a reintegration provider.",
            extra={
                "errors": [
                    {"pointer": "#/provider", "reason": "Required for coach keys", "type": "value_error"}
                ]
            },
        )
    if body.expires_at is not None and body.expires_at <= datetime.now(UTC):
        raise InvalidInput(
            "The expiry is in the past.",
            extra={
                "errors": [
                    {"pointer": "#/expires_at", "reason": "Must be in the future", "type": "value_error"}
                ]
            },
        )
    return await issue_key(
        session, tenant_id, body.role, body.name, expires_at=body.expires_at, provider=body.provider
    )


async def get(
    session: AsyncSession, tenant_id: uuid.UUID, key_id: uuid.UUID, *, for_update: bool = False
) -> ApiKey:
    query = select(ApiKey).where(ApiKey.id == key_id, ApiKey.tenant_id == tenant_id)
    if for_update:
        query = query.with_for_update()
    key = (await session.execute(query)).scalar_one_or_none()
    if key is None:
        raise NotFound(f"No API key {key_id}.")
    return key


async def list_keys(session: AsyncSession, tenant_id: uuid.UUID) -> list[ApiKey]:
    query = select(ApiKey).where(ApiKey.tenant_id == tenant_id).order_by(ApiKey.created_at, ApiKey.id)
    return list((await session.execute(query)).scalars())


async def rotate(
    session: AsyncSession, tenant_id: uuid.UUID, key_id: uuid.UUID, old_key_grace: timedelta
) -> tuple[ApiKey, str]:
    """A new key with the same name, role and provider; the old one expires after the grace period, so
    both work while clients switch over."""
    old = await get(session, tenant_id, key_id, for_update=True)
    if old.revoked_at is not None:
        raise InvalidInput("A revoked key cannot be rotated; issue a new one.")
    grace_ends = datetime.now(UTC) + old_key_grace
    if old.expires_at is None or old.expires_at > grace_ends:
        old.expires_at = grace_ends
    return await issue_key(
        session, tenant_id, Role(old.role), old.name, expires_at=None, provider=old.provider
    )


async def revoke(session: AsyncSession, tenant_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey:
    key = await get(session, tenant_id, key_id, for_update=True)
    if key.revoked_at is None:
        key.revoked_at = datetime.now(UTC)
        await session.flush()
    return key
