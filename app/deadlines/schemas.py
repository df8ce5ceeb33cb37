from __future__ import annotations

import uuid

from pydantic import Field

from app.schemas import IsoDate, ReadModel
from app.timeline.schemas import DeadlineStatus


class WorklistDeadline(ReadModel):
    """One deadline of one case, as the cross-case worklist shows it."""

    id: uuid.UUID
    case_id: uuid.UUID
    employee_ref: str
    case_manager: str | None
    code: str = Field(examples=["problem_analysis"])
    rule: str = Field(examples=["T2"])
    title: str
    occurrence: int | None
    track_id: uuid.UUID | None
    due_on: IsoDate | None
    window_starts_on: IsoDate | None
    status: DeadlineStatus
    satisfied_by: str | None
    satisfied_on: IsoDate | None
    source: str
