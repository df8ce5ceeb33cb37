from __future__ import annotations

import uuid
from datetime import date

from pydantic import Field

from app.schemas import ReadModel
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
    due_on: date | None
    window_starts_on: date | None
    status: DeadlineStatus
    satisfied_by: str | None
    satisfied_on: date | None
    source: str
