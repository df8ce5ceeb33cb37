"""Report schemas: the reintegration report (RIV), the Track 2 progress and final reports, and the
compliance report. Everything here comes from the employer-side fields of activities (`details`,
`summary`, `outcome`); no report carries medical data (A3)."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.cases.schemas import CaseFlagsRead, EmployeeRead
from app.schemas import IsoDate

FindingStatus = Literal["ok", "warning", "violation"]
Risk = Literal["low", "medium", "high"]
ComplianceCheck = Literal["documents_complete", "result_satisfactory", "efforts_sufficient"]


class ReportCase(BaseModel):
    """The case as a report's header shows it, as of the report's day."""

    id: uuid.UUID
    employee: EmployeeRead
    first_sick_day: IsoDate
    case_manager: str | None
    status: Literal["open", "recovered", "closed"]
    flags: CaseFlagsRead
    sick_day: int | None = Field(description="Sick-day number of as_of; null when as_of is not a sick day.")
    week: int | None
    waiting_period_ends_on: IsoDate = Field(description="Last day of wage duty, with every extension.")


class DocumentEntry(BaseModel):
    """One recorded activity as a report shows it: its employer-side fields only."""

    activity_id: uuid.UUID
    kind: str = Field(examples=["evaluation"])
    title: str = Field(examples=["Action plan evaluation"])
    occurred_on: IsoDate
    summary: str | None
    outcome: str | None
    details: dict[str, Any] = Field(
        description="The kind's documented detail fields (non-medical by design, A3/A4); "
        "fields the kind does not define are left out."
    )
    medical: dict[str, Any] | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="The physician's medical part (A3): only in reports for the occupational physician.",
    )


class GeneralSection(BaseModel):
    """A part of the RIV's general part: the documents of one or more kinds."""

    key: str = Field(examples=["action_plan"])
    title: str = Field(examples=["Action plan and its updates"])
    rule: str | None = Field(description="The rule that requires the part, if any.", examples=["T3"])
    documents: list[DocumentEntry]


class ReportPhase(BaseModel):
    phase: str = Field(examples=["active_search"])
    entered_on: IsoDate
    left_on: IsoDate | None


class TrackSummary(BaseModel):
    """A track in the RIV: dates, phases, activity counts and its key activities."""

    id: uuid.UUID
    kind: Literal["track_1", "track_2"]
    status: Literal["open", "closed"] = Field(description="As of the report's day.")
    started_on: IsoDate
    ended_on: IsoDate | None
    outcome: str | None
    provider: str | None
    phase: str = Field(description="The phase as of the report's day.")
    phases: list[ReportPhase]
    activity_counts: dict[str, int] = Field(
        description="Activities recorded in the track per kind.", examples=[{"job_application": 12}]
    )
    last_activity_on: IsoDate | None
    key_activities: list[DocumentEntry] = Field(
        description="Everything but the high-volume search efforts (applications, interviews, contacts, "
        "vacancy searches, coaching and network meetings), which are counted in activity_counts."
    )


class MissingPart(BaseModel):
    """A part of the RIV that should exist by the report's day and does not."""

    part: str = Field(
        description="The missing document or record: a deadline code, `employee_view` or "
        "`labour_expert_assessment`.",
        examples=["first_year_evaluation"],
    )
    title: str = Field(examples=["First-year evaluation"])
    rule: str = Field(examples=["T6"])
    detail: str = Field(examples=["Due on 2025-08-31 (end of week 52); none recorded."])
    due_on: IsoDate | None
    source: str = Field(examples=["UWV; Regeling procesgang"])


class PendingPart(BaseModel):
    """A part of the RIV that is not due yet."""

    part: str = Field(examples=["current_assessment"])
    title: str
    rule: str
    due_on: IsoDate | None


class ReintegrationReport(BaseModel):
    """The reintegration report (RIV) as of a day: the general part assembled from the case's
    documents, the Track 1 and Track 2 summaries, and what is missing."""

    as_of: IsoDate
    case: ReportCase
    complete: bool = Field(description="True when `completeness` is empty.")
    completeness: list[MissingPart] = Field(
        description="Each missing part with the rule behind it; empty when the RIV is complete as of as_of."
    )
    pending: list[PendingPart] = Field(description="Parts not due yet as of as_of.")
    general_part: list[GeneralSection] = Field(
        description="Problem analysis and updates, action plan and updates, evaluations, first-year "
        "evaluation, current assessment, final evaluation, the employee's view, and the labour expert "
        "assessment, in this order."
    )
    track_1: list[TrackSummary]
    track_2: list[TrackSummary]

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "as_of": "2026-06-22",
                    "complete": False,
                    "completeness": [
                        {
                            "part": "employee_view",
                            "title": "The employee's view",
                            "rule": "A2",
                            "detail": "The RIV holds the employee's view from 2026-05-31 (with the final "
                            "evaluation); none recorded.",
                            "due_on": "2026-05-31",
                            "source": "UWV (reintegration report)",
                        }
                    ],
                }
            ]
        }
    }


class Period(BaseModel):
    from_on: IsoDate = Field(alias="from", serialization_alias="from")
    to_on: IsoDate = Field(alias="to", serialization_alias="to")

    model_config = {"populate_by_name": True}


class ReportTrack(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    status: Literal["open", "closed"] = Field(description="As of the report's day.")
    started_on: IsoDate
    ended_on: IsoDate | None
    outcome: str | None
    provider: str | None
    coach: str | None
    phase: str
    phases: list[ReportPhase]


class PhaseActivities(BaseModel):
    phase: str
    entered_on: IsoDate
    left_on: IsoDate | None
    activities: list[DocumentEntry] = Field(description="The period's activities made in this phase.")


class Application(BaseModel):
    activity_id: uuid.UUID
    occurred_on: IsoDate
    employer: str | None
    vacancy: str | None
    result: str | None = Field(examples=["invited"])


class Interview(BaseModel):
    activity_id: uuid.UUID
    occurred_on: IsoDate
    employer: str | None
    vacancy: str | None
    result: str | None = Field(examples=["next_round"])


class Placement(BaseModel):
    activity_id: uuid.UUID
    kind: Literal["secondment", "work_experience_placement", "job_placement"]
    occurred_on: IsoDate
    employer: str | None
    role: str | None
    starts_on: IsoDate | None
    ends_on: IsoDate | None
    hours_per_week: float | None
    paid: bool | None


class Training(BaseModel):
    activity_id: uuid.UUID
    occurred_on: IsoDate
    course: str | None
    provider: str | None
    starts_on: IsoDate | None
    ends_on: IsoDate | None
    completed: bool | None
    certificate: bool | None


class Track2Totals(BaseModel):
    activities: int
    applications: int
    applications_by_result: dict[str, int] = Field(examples=[{"pending": 3, "invited": 1, "rejected": 4}])
    interviews: int
    placements: int
    training: int


class Track2Report(BaseModel):
    """A Track 2 progress report (a period) or final report (the whole track): activities by phase,
    applications with their results, placements, training and the outcome."""

    report: Literal["progress", "final"]
    as_of: IsoDate
    period: Period
    draft: bool = Field(
        description="Final report of a track still open as of as_of: the final report is written before "
        "the track closes (P5), so it can be drawn up while open; the outcome may still change."
    )
    case: ReportCase
    track: ReportTrack
    by_phase: list[PhaseActivities]
    applications: list[Application]
    interviews: list[Interview]
    placements: list[Placement]
    training: list[Training]
    totals: Track2Totals
    outcome: str | None = Field(
        description="The track's outcome, or the final report's recorded outcome while it is open.",
        examples=["placed_external"],
    )
    final_report: DocumentEntry | None = Field(description="The latest final_report activity, if any.")


class Evidence(BaseModel):
    """What a finding rests on: an activity, a track or a waiver with its date, or a due date."""

    type: Literal["activity", "track", "waiver", "due_date", "as_of"]
    id: str | None = Field(description="The activity, track or waiver id.")
    activity_kind: str | None = None
    on: IsoDate
    note: str = Field(examples=["evaluation recorded"])


class Finding(BaseModel):
    check: ComplianceCheck = Field(
        description="UWV's order of checks: 1 documents_complete, 2 result_satisfactory, "
        "3 efforts_sufficient."
    )
    rule: str = Field(examples=["T3"])
    title: str
    status: FindingStatus
    detail: str = Field(description="Plain language.")
    evidence: list[Evidence]
    source: str = Field(description="From the rule catalogue.")


class ComplianceReport(BaseModel):
    """UWV's checks as findings, one per rule (T1–T12, P8–P11, and the employee's view, A2), and the
    wage-sanction risk."""

    as_of: IsoDate
    case: ReportCase
    findings: list[Finding]
    risk: Risk = Field(
        description="high: a violation of a wage-sanction rule (T2, T3, T6, T7, T9, T10, P8, or T4 "
        "missed repeatedly); medium: any other violation or a warning; low: neither."
    )
    risk_reason: str
    risk_rules: list[str] = Field(description="The rules that set the risk.")

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "as_of": "2026-07-26",
                    "risk": "high",
                    "risk_reason": "Wage-sanction rules violated: P8, T4.",
                    "risk_rules": ["P8", "T4"],
                    "findings": [
                        {
                            "check": "efforts_sufficient",
                            "rule": "P8",
                            "title": "Track 2 started in time",
                            "status": "violation",
                            "detail": "Track 2 started on 2026-07-06, 20 days after T7's due date "
                            "2026-06-16: a common wage-sanction ground.",
                            "evidence": [
                                {
                                    "type": "track",
                                    "id": "6f1c2a8e-8a57-4d0e-9b7e-1d5c0b6f3a21",
                                    "activity_kind": None,
                                    "on": "2026-07-06",
                                    "note": "Track 2 started",
                                }
                            ],
                            "source": "UWV Werkwijzer Poortwachter",
                        }
                    ],
                }
            ]
        }
    }
