from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class EmployeeExport(BaseModel):
    """Everything held about one employee (GDPR art. 15/20), as JSON."""

    employee_ref: str
    exported_at: datetime
    cases: list[dict[str, Any]] = Field(
        description="Each case with its sickness periods, tracks and phases, waivers, activities, deadlines."
    )


class ErasureResult(BaseModel):
    pseudonym: str = Field(description="The reference the employee's cases carry from now on.")
    cases: int
    activities: int
