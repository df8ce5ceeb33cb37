from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from app.schemas import IsoDateTime


class EmployeeExport(BaseModel):
    """Everything held about one employee (GDPR art. 15/20), as JSON."""

    employee_ref: str
    exported_at: IsoDateTime
    cases: list[dict[str, Any]] = Field(
        description="Each case with its sickness periods, tracks and phases, waivers, activities, deadlines."
    )


class ErasureResult(BaseModel):
    pseudonym: str = Field(description="The reference the employee's cases carry from now on.")
    cases: int
    activities: int
