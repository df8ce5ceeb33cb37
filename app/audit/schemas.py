from __future__ import annotations

import uuid

from pydantic import Field

from app.schemas import IsoDateTime, ReadModel


class AuditEventRead(ReadModel):
    id: uuid.UUID
    at: IsoDateTime
    key_id: uuid.UUID | None
    role: str | None
    action: str = Field(description="The operation, e.g. record_activity.", examples=["update_case"])
    method: str
    resource_type: str | None = Field(examples=["case"])
    resource_id: str | None
    request_id: str | None
    outcome: str = Field(description="success, or the problem code that refused the request.")
    changed_fields: list[str] = Field(description="Names of the fields a write sent; never their values.")
