"""Case schemas. Free-text fields are non-medical by contract (A4): no diagnosis, complaint or treatment."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from app.schemas import IsoDate, IsoDateTime, ReadModel, StrictModel
from app.timeline.schemas import DeadlineRead

NON_MEDICAL = "Non-medical by contract (A4): never a diagnosis, complaint or treatment."


class Employee(StrictModel):
    external_ref: str = Field(
        min_length=1,
        max_length=200,
        description="The employer's own id of the employee (personnel number).",
        examples=["E-10442"],
    )
    display_name: str | None = Field(
        default=None, max_length=200, description="Name for display. " + NON_MEDICAL, examples=["J. de Vries"]
    )


class CaseFlags(StrictModel):
    """Yes/no flags the employer may know (A3); never a reason."""

    safety_net: bool = Field(default=False, description="Vangnet case (Ziektewet safety net).")
    work_accident: bool = Field(default=False, description="The absence follows a work accident.")
    third_party_liability: bool = Field(default=False, description="A third party may be liable (regres).")


class CaseCreate(StrictModel):
    employee: Employee
    first_sick_day: IsoDate = Field(
        description="Day 1 of the statutory clock; not in the future.", examples=["2026-01-05"]
    )
    case_manager: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Who keeps the process on schedule (named in the action plan).",
        examples=["m.jansen@example.nl"],
    )
    long_term_expected_on: IsoDate | None = Field(
        default=None,
        description="When long-term absence was "
        "flagged, if later than week 6 (moves the problem analysis, T2).",
    )
    employment_ends_on: IsoDate | None = Field(default=None, description="End of employment, if known.")
    flags: CaseFlags = Field(default_factory=CaseFlags)


class CaseUpdate(StrictModel):
    """Only the fields sent are changed; send null to clear an optional one."""

    employee: Employee | None = None
    case_manager: str | None = Field(default=None, min_length=1, max_length=200)
    long_term_expected_on: IsoDate | None = None
    employment_ends_on: IsoDate | None = None
    flags: CaseFlags | None = None


class EmployeeRead(ReadModel):
    external_ref: str
    display_name: str | None


class CaseFlagsRead(ReadModel):
    safety_net: bool
    work_accident: bool
    third_party_liability: bool


class CaseRead(ReadModel):
    id: uuid.UUID
    employee: EmployeeRead
    first_sick_day: IsoDate
    case_manager: str | None
    long_term_expected_on: IsoDate | None
    employment_ends_on: IsoDate | None
    flags: CaseFlagsRead
    status: Literal["open", "recovered", "closed"]
    closed_on: IsoDate | None
    version: int = Field(description="Increases with every change; sent as the ETag.")
    created_at: IsoDateTime
    updated_at: IsoDateTime


class CaseTrackSummary(ReadModel):
    id: uuid.UUID
    kind: Literal["track_1", "track_2"]
    status: Literal["open", "closed"]
    phase: str = Field(description="The current phase.")
    started_on: IsoDate
    ended_on: IsoDate | None
    outcome: str | None


class CaseWarning(ReadModel):
    code: str = Field(examples=["track_2_late"])
    rule: str = Field(examples=["P8"])
    detail: str


class CaseDetail(CaseRead):
    """The case with what is computed as of a day (`?as_of=`)."""

    as_of: IsoDate
    sick_day: int | None = Field(description="Sick-day number of as_of; null when as_of is not a sick day.")
    week: int | None
    waiting_period_ends_on: IsoDate = Field(description="Last day of wage duty, with every extension.")
    tracks: list[CaseTrackSummary]
    next_deadlines: list[DeadlineRead] = Field(
        description="The next open deadlines, soonest first (at most 5)."
    )
    warnings: list[CaseWarning] = Field(description="Timeline warnings and the soft rules P8-P11.")
