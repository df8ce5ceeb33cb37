"""Tracks, phase transitions, closure and the Track 2 waiver."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from app.schemas import IsoDate, IsoDateTime, ReadModel, StrictModel

TrackKindName = Literal["track_1", "track_2"]
OutcomeName = Literal[
    "sustainable_return",
    "case_closed",
    "no_internal_prospect",
    "placed_external",
    "work_experience_or_secondment",
    "wia_preparation",
    "returned_internal",
]
NON_MEDICAL = "Non-medical (A4): never a diagnosis, complaint or treatment."


class TrackCreate(StrictModel):
    kind: TrackKindName
    started_on: IsoDate = Field(description="On or after the first sick day, not in the future (P2).")
    provider: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The reintegration provider (Track 2 agency); coach keys of that provider see the track.",
    )
    coach: str | None = Field(default=None, min_length=1, max_length=200)
    progress_interval_days: int | None = Field(
        default=None, ge=7, le=365, description="Track 2 progress report interval (T8); default 28."
    )

    model_config = {
        **StrictModel.model_config,
        "json_schema_extra": {
            "examples": [{"kind": "track_2", "started_on": "2027-01-20", "provider": "Werkfit BV"}]
        },
    }


class PhaseTransitionCreate(StrictModel):
    to_phase: str = Field(min_length=1, max_length=40, examples=["active_search"])
    on: IsoDate = Field(description="On or after the current phase's start, not in the future (P3).")
    note: str | None = Field(default=None, max_length=2000, description=NON_MEDICAL)


class TrackClosure(StrictModel):
    ended_on: IsoDate
    outcome: OutcomeName
    note: str | None = Field(default=None, max_length=2000, description=NON_MEDICAL)


class PhaseRead(ReadModel):
    phase: str
    entered_on: IsoDate
    left_on: IsoDate | None
    note: str | None


class NextPhaseRead(ReadModel):
    phase: str
    missing: list[str] = Field(description="What the track must hold before it may enter the phase (P3).")


class TrackRead(ReadModel):
    id: uuid.UUID
    case_id: uuid.UUID
    kind: TrackKindName
    status: Literal["open", "closed"]
    started_on: IsoDate
    ended_on: IsoDate | None
    outcome: OutcomeName | None
    closing_note: str | None
    provider: str | None
    coach: str | None
    progress_interval_days: int | None
    phase: str = Field(description="The current phase.")
    phases: list[PhaseRead] = Field(description="The phase history, oldest first.")
    next_phase: NextPhaseRead | None = Field(description="Null in the final phase or when closed.")
    version: int
    created_at: IsoDateTime
    updated_at: IsoDateTime


class WaiverPut(StrictModel):
    reason: Literal["return_within_3_months", "marginal_capacity", "retirement_within_1_year"]
    recorded_on: IsoDate
    expected_return_on: IsoDate | None = Field(
        default=None, description="Required for return_within_3_months."
    )
    employer_consent: bool = Field(default=False, description="Required for retirement_within_1_year.")
    employee_consent: bool = Field(default=False, description="Required for retirement_within_1_year.")
    note: str | None = Field(default=None, max_length=2000, description=NON_MEDICAL)


class WaiverRead(ReadModel):
    id: uuid.UUID
    case_id: uuid.UUID
    reason: str
    recorded_on: IsoDate
    expected_return_on: IsoDate | None
    employer_consent: bool
    employee_consent: bool
    note: str | None
    lapses_on: IsoDate | None = Field(
        description="return_within_3_months: lapses the day after the expected return."
    )
    created_at: IsoDateTime
