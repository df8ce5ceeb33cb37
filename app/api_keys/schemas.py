from __future__ import annotations

import uuid

from pydantic import Field

from app.models.tenants import Role
from app.schemas import IsoDateTime, ReadModel, StrictModel


class ApiKeyCreate(StrictModel):
    name: str = Field(min_length=1, max_length=200, examples=["HR platform sync"])
    role: Role
    expires_at: IsoDateTime | None = Field(default=None, description="Optional expiry (RFC 3339).")
    provider: str | None = Field(
        default=None, min_length=1, max_length=200, description="Required for coach keys: their provider."
    )


class ApiKeyRotation(StrictModel):
    old_key_expires_in_hours: int = Field(
        default=24, ge=0, le=24 * 30, description="How long the old key keeps working beside the new one."
    )


class ApiKeyRead(ReadModel):
    id: uuid.UUID
    name: str
    role: Role
    provider: str | None
    key_prefix: str = Field(description="The first characters of the key, to recognise it.")
    created_at: IsoDateTime
    expires_at: IsoDateTime | None
    revoked_at: IsoDateTime | None
    last_used_at: IsoDateTime | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The secret. Shown once: only its hash is stored.")
