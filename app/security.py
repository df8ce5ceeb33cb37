"""API keys -> Principal (tenant, role). Which role may call what is `app/permissions.py`'s one table.

A key is `pwk_` followed by 43 url-safe characters (256 bits from `secrets`); only its SHA-256 hash is
stored (a salt adds nothing to a secret of that entropy, and a plain hash keeps lookup one indexed query)."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.tenants import ApiKey, Role
from app.problems import unauthenticated

KEY_PREFIX = "pwk_"
KEY_PATTERN = re.compile(r"^pwk_[A-Za-z0-9_-]{43}$")
# last_used_at is written at most this often per key, so reads stay reads.
LAST_USED_RESOLUTION = timedelta(minutes=5)


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Principal:
    tenant_id: uuid.UUID
    key_id: uuid.UUID
    role: Role
    provider: str | None = None

    @property
    def is_physician(self) -> bool:
        return self.role is Role.occupational_physician


bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer pwk_…`")


class KeyCache:
    """Keys recently authenticated, for `ttl` seconds: most requests then skip the key lookup. A key
    revoked through this process is dropped at once (`forget_all`); another replica notices within the
    ttl. A key's own expiry is still checked on every request."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[Principal, datetime | None, float]] = {}

    def get(self, key_hash: str, now: datetime) -> Principal | None:
        entry = self._entries.get(key_hash)
        if entry is None:
            return None
        principal, expires_at, cached_until = entry
        if cached_until < time.monotonic() or (expires_at is not None and expires_at <= now):
            self._entries.pop(key_hash, None)
            return None
        return principal

    def put(self, key_hash: str, principal: Principal, expires_at: datetime | None) -> None:
        if self.ttl > 0:
            if len(self._entries) > 10_000:  # bounded: forget everything rather than grow
                self._entries.clear()
            self._entries[key_hash] = (principal, expires_at, time.monotonic() + self.ttl)

    def forget_all(self) -> None:
        self._entries.clear()


async def authenticate(
    session: AsyncSession, key: str, now: datetime | None = None, cache: KeyCache | None = None
) -> Principal:
    if not KEY_PATTERN.fullmatch(key):
        raise unauthenticated("The API key is malformed.")
    now = now or datetime.now(UTC)
    key_hash = hash_key(key)
    if cache is not None and (cached := cache.get(key_hash, now)) is not None:
        return cached
    row = (
        await session.execute(
            select(
                ApiKey.id,
                ApiKey.tenant_id,
                ApiKey.role,
                ApiKey.provider,
                ApiKey.expires_at,
                ApiKey.revoked_at,
                ApiKey.last_used_at,
            ).where(ApiKey.key_hash == key_hash)
        )
    ).one_or_none()
    if row is None:
        raise unauthenticated("The API key is not known.")
    if row.revoked_at is not None and row.revoked_at <= now:
        raise unauthenticated("The API key has been revoked.")
    if row.expires_at is not None and row.expires_at <= now:
        raise unauthenticated("The API key has expired.")
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        await session.execute(update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=now))
    principal = Principal(tenant_id=row.tenant_id, key_id=row.id, role=Role(row.role), provider=row.provider)
    if cache is not None:
        cache.put(key_hash, principal, row.expires_at)
    return principal


async def authenticate_request(
    request: Request, session: AsyncSession, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    """The key's principal, kept in `request.state` for the routes and the audit entry."""
    if credentials is None:
        header = request.headers.get("authorization")
        if header is None:
            raise unauthenticated("Send an API key: `Authorization: Bearer <key>`.")
        raise unauthenticated("The Authorization header must be `Bearer <key>`.")
    principal = await authenticate(session, credentials.credentials, cache=request.app.state.key_cache)
    request.state.principal = principal
    return principal


async def current_principal(request: Request) -> Principal:
    """The principal `AuthorizedRoute` authenticated for this request."""
    try:
        principal: Principal = request.state.principal
    except AttributeError:
        raise RuntimeError(f"{request.url.path} uses PrincipalDep outside `AuthorizedRoute`") from None
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]
