"""The statutory timeline as the API shows it, and the preview request."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field, model_validator

from app.domain import catalogue
from app.schemas import IsoDate, ReadModel, StrictModel

DeadlineStatus = Literal[
    "upcoming", "due_soon", "overdue", "met", "met_late", "waived", "suspended", "not_applicable"
]


class TimelineEventKind(StrEnum):
    """The dated events the timeline reads (activity kinds of the same name)."""

    occupational_health_notification = "occupational_health_notification"
    problem_analysis = "problem_analysis"
    action_plan = "action_plan"
    action_plan_update = "action_plan_update"
    evaluation = "evaluation"
    uwv_sick_notification = "uwv_sick_notification"
    first_year_evaluation = "first_year_evaluation"
    progress_report = "progress_report"
    current_assessment = "current_assessment"
    final_evaluation = "final_evaluation"
    wia_application = "wia_application"
    riv_submission = "riv_submission"
    early_iva_application = "early_iva_application"


class DeadlineRead(ReadModel):
    code: str = Field(examples=["action_plan"])
    rule: str = Field(description="Rule id of domain.md.", examples=["T3"])
    title: str
    due_on: IsoDate | None = Field(description="Null while suspended beyond the last sick day.")
    window_starts_on: IsoDate | None
    status: DeadlineStatus
    satisfied_by: str | None = Field(description="Id of the activity, track or waiver that satisfied it.")
    satisfied_on: IsoDate | None
    source: str
    consequence: str = Field(description="What a miss costs.")
    occurrence: int | None = Field(default=None, description="1, 2, … for recurring deadlines (T4, T8).")
    track_id: str | None = Field(default=None, description="T8: the Track 2 the report belongs to.")
    waived_reason: str | None = None


class ExtensionRead(ReadModel):
    kind: Literal["voluntary_extension", "wage_sanction", "late_wia_application", "early_iva"]
    days: int
    reason: str


class WaitingPeriodRead(ReadModel):
    base_ends_on: IsoDate = Field(description="Last day of week 104, walking the sickness periods.")
    ends_on: IsoDate = Field(description="Last day of wage duty: the base plus every extension.")
    extensions: list[ExtensionRead]


class MilestoneRead(ReadModel):
    code: str
    rule: str
    title: str
    on: IsoDate
    window_starts_on: IsoDate | None
    source: str


class WarningRead(ReadModel):
    code: str
    rule: str
    detail: str


class TimelineRead(ReadModel):
    first_sick_day: IsoDate
    as_of: IsoDate
    sick_day: int | None = Field(description="Sick-day number of as_of; null when as_of is not a sick day.")
    week: int | None
    sick_days_counted: int = Field(description="Sick days up to as_of.")
    case_state: Literal["open", "recovered_suspended", "closed"]
    closed_on: IsoDate | None
    closure_reason: str | None
    waiting_period: WaitingPeriodRead
    deadlines: list[DeadlineRead]
    milestones: list[MilestoneRead]
    warnings: list[WarningRead]
    catalogue_version: str


class PeriodIn(StrictModel):
    started_on: IsoDate
    ended_on: IsoDate | None = Field(default=None, description="Last sick day; null while still sick.")
    pregnancy_leave_days: int = Field(
        default=0, ge=0, description="Days of pregnancy or maternity leave in the gap before this period."
    )
    same_cause_not_pregnancy: bool = Field(
        default=False, description="Joins the case across pregnancy leave only when true (T0)."
    )


class EventIn(StrictModel):
    kind: TimelineEventKind
    occurred_on: IsoDate
    id: str | None = Field(default=None, max_length=64, description="Your id, echoed in satisfied_by.")


class Track2In(StrictModel):
    started_on: IsoDate
    ended_on: IsoDate | None = None
    progress_interval_days: int = Field(default=catalogue.TRACK_2_PROGRESS_INTERVAL_DAYS, ge=7, le=365)


class WaiverIn(StrictModel):
    reason: Literal["return_within_3_months", "marginal_capacity", "retirement_within_1_year"]
    recorded_on: IsoDate
    expected_return_on: IsoDate | None = None
    withdrawn_on: IsoDate | None = None

    @model_validator(mode="after")
    def return_needs_a_date(self) -> WaiverIn:
        if self.reason == "return_within_3_months" and self.expected_return_on is None:
            raise ValueError("return_within_3_months needs expected_return_on")
        return self


class ExtensionIn(StrictModel):
    kind: Literal["voluntary_extension", "wage_sanction"]
    weeks: int = Field(ge=1, le=catalogue.WAGE_SANCTION_MAX_WEEKS)
    decided_on: IsoDate


class ClosureIn(StrictModel):
    closed_on: IsoDate
    reason: Literal["recovered", "employment_ended", "waiting_period_ended", "other"]


class TimelinePreviewRequest(StrictModel):
    """Everything the timeline reads, without storing anything."""

    first_sick_day: IsoDate = Field(examples=["2026-01-05"])
    as_of: IsoDate | None = Field(default=None, description="Default: today in Europe/Amsterdam.")
    sickness_periods: list[PeriodIn] = Field(
        default_factory=list,
        max_length=200,
        description="Empty: one open period from the first sick day. Otherwise the first must start on it.",
    )
    events: list[EventIn] = Field(default_factory=list, max_length=5000)
    long_term_expected_on: IsoDate | None = Field(
        default=None, description="Long-term absence flagged late (T2)."
    )
    track_2: list[Track2In] = Field(default_factory=list, max_length=20)
    track_2_waivers: list[WaiverIn] = Field(default_factory=list, max_length=20)
    satisfactory_result_on: IsoDate | None = Field(default=None, description="P9: structural return at 65%+.")
    extensions: list[ExtensionIn] = Field(default_factory=list, max_length=20)
    waived: dict[str, str] = Field(default_factory=dict, description="Deadline code -> recorded reason.")
    closure: ClosureIn | None = None
    evaluation_interval_days: int = Field(default=catalogue.EVALUATION_INTERVAL_DAYS, ge=7, le=365)

    model_config = {
        **StrictModel.model_config,
        "json_schema_extra": {
            "examples": [
                {
                    "first_sick_day": "2026-01-05",
                    "as_of": "2026-03-10",
                    "sickness_periods": [
                        {"started_on": "2026-01-05", "ended_on": "2026-01-20"},
                        {"started_on": "2026-02-10"},
                    ],
                    "events": [
                        {"kind": "problem_analysis", "occurred_on": "2026-02-12", "id": "pa-1"},
                        {"kind": "action_plan", "occurred_on": "2026-02-20", "id": "pva-1"},
                    ],
                }
            ]
        },
    }
