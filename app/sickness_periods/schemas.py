from __future__ import annotations

import uuid

from pydantic import Field

from app.schemas import IsoDate, IsoDateTime, ReadModel, StrictModel


class SicknessPeriodCreate(StrictModel):
    """A relapse: a new period after the last one ended (T0: refused while the last is open, or after a
    gap of 28 healthy days or more, which makes a new case)."""

    started_on: IsoDate
    ended_on: IsoDate | None = Field(default=None, description="Last sick day, if already known.")
    pregnancy_leave_days: int = Field(
        default=0, ge=0, description="Days of pregnancy or maternity leave in the gap before this period."
    )
    same_cause_not_pregnancy: bool = Field(
        default=False, description="Across pregnancy leave the periods join only when this is true (T0)."
    )


class SicknessPeriodUpdate(StrictModel):
    ended_on: IsoDate | None = Field(
        description="The last sick day (recovery for the agreed work); null reopens."
    )


class SicknessPeriodRead(ReadModel):
    id: uuid.UUID
    case_id: uuid.UUID
    started_on: IsoDate
    ended_on: IsoDate | None
    pregnancy_leave_days: int
    same_cause_not_pregnancy: bool
    version: int
    created_at: IsoDateTime
    updated_at: IsoDateTime
