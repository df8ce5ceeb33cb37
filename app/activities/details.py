"""Kind-specific `details` of an activity (A1), one strict model per `ActivityKind`.

`DETAILS_MODELS` maps every kind to the pydantic model its `details` must satisfy; `validate_details`
applies it and `counts_for_deadline` says whether a valid record also meets the requirements to satisfy
its deadline (T3's signed action plan, T6's first-year evaluation with both views).

Privacy (A3, A4): no model here has a field for a diagnosis, a complaint, a treatment, medication or
symptoms. The occupational physician's documents carry only what the employer side may see (functional
limitations and capacities, expected duration, degree of incapacity, advised adjustments and the yes/no
flags); their medical part is a separate structure, handled elsewhere and never part of `details`. Every
free-text field is documented as non-medical.

Numbers are stored as JSON numbers (floats, not Decimals) and counts and flags are strict (no `"5"`, no
`true` for a number), because the timeline reads some of them from the stored JSON
(`app/timeline/service.py`: `weeks`, `deadline`, `reason`, `wage_value_percentage`, `structural`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import Annotated, Any, Final, Self

from pydantic import (
    AfterValidator,
    Field,
    JsonValue,
    StrictBool,
    StrictFloat,
    StrictInt,
    StringConstraints,
    model_validator,
)

from app.domain.activity_kinds import ActivityKind, Conclusion, TrackOutcome
from app.domain.catalogue import DEADLINE_CODES, WAGE_SANCTION_MAX_WEEKS
from app.schemas import IsoDate, StrictModel

NON_MEDICAL: Final = "Non-medical (A4)."
"""Part of the description of every free-text field."""

TEXT_MAX: Final = 4000
"""Longest free text (views, summaries, explanations)."""

NAME_MAX: Final = 200
"""Longest short text (names, titles, references)."""

LIST_MAX: Final = 50
"""Most items in a list of short texts."""

ACTION_PLAN_VIEWS_REQUIRED_FROM: Final = date(2023, 7, 1)
"""T3: for a first sick day on or after this date the action plan holds both parties' views
(Stcrt. 2023, 13931)."""

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX)]


def _text(description: str, *, required: bool = False, max_length: int = TEXT_MAX) -> Any:
    """A free-text field: bounded, documented as non-medical; required ones may not be blank."""
    return Field(
        ... if required else None,
        description=f"{description} {NON_MEDICAL}",
        max_length=max_length,
        min_length=1 if required else None,
    )


def _name(description: str, *, required: bool = False) -> Any:
    return _text(description, required=required, max_length=NAME_MAX)


def _texts(description: str, *, min_items: int = 0) -> Any:
    """A list of short texts (names, roles, goals); required when it needs at least one item."""
    if min_items:
        return Field(description=f"{description} {NON_MEDICAL}", min_length=min_items, max_length=LIST_MAX)
    return Field(
        default_factory=list,
        description=f"{description} {NON_MEDICAL}",
        min_length=min_items,
        max_length=LIST_MAX,
    )


def _flag(description: str) -> Any:
    return Field(None, description=description)


# ---------------------------------------------------------------------------------------------------------
# Enums


class ApplicationResult(StrEnum):
    PENDING = "pending"
    INVITED = "invited"
    REJECTED = "rejected"
    HIRED = "hired"
    WITHDRAWN = "withdrawn"


class InterviewResult(StrEnum):
    PENDING = "pending"
    NEXT_ROUND = "next_round"
    OFFER = "offer"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class WorkType(StrEnum):
    """Track 1 resumption: the own work, the own work adapted, or other work with the own employer."""

    OWN_WORK = "own_work"
    ADAPTED_OWN_WORK = "adapted_own_work"
    OTHER_INTERNAL_WORK = "other_internal_work"


class ExpectedDuration(StrEnum):
    SHORT_TERM = "short_term"
    MEDIUM_TERM = "medium_term"
    LONG_TERM = "long_term"
    UNKNOWN = "unknown"


class DegreeOfIncapacity(StrEnum):
    FULL = "full"
    PARTIAL = "partial"
    NONE = "none"


class ContactChannel(StrEnum):
    IN_PERSON = "in_person"
    PHONE = "phone"
    VIDEO = "video"
    EMAIL = "email"
    LETTER = "letter"
    OTHER = "other"


class Party(StrEnum):
    EMPLOYER = "employer"
    EMPLOYEE = "employee"
    OCCUPATIONAL_PHYSICIAN = "occupational_physician"
    CASE_MANAGER = "case_manager"
    REINTEGRATION_PROVIDER = "reintegration_provider"


class SubmissionChannel(StrEnum):
    ONLINE_PORTAL = "online_portal"
    SOFTWARE_INTERFACE = "software_interface"
    EMAIL = "email"
    POST = "post"
    PHONE = "phone"
    OTHER = "other"


class ExpertOpinionQuestion(StrEnum):
    """The questions UWV's expert opinion (deskundigenoordeel) answers."""

    FIT_FOR_OWN_WORK = "fit_for_own_work"
    SUITABLE_WORK = "suitable_work"
    REINTEGRATION_EFFORTS = "reintegration_efforts"


class ContractType(StrEnum):
    PERMANENT = "permanent"
    FIXED_TERM = "fixed_term"
    TEMPORARY_AGENCY = "temporary_agency"
    ON_CALL = "on_call"
    OTHER = "other"


class FinalReportOutcome(StrEnum):
    """P5: the outcomes a Track 2 closes with (the values of `TRACK_2_OUTCOMES`)."""

    PLACED_EXTERNAL = TrackOutcome.PLACED_EXTERNAL.value
    WORK_EXPERIENCE_OR_SECONDMENT = TrackOutcome.WORK_EXPERIENCE_OR_SECONDMENT.value
    WIA_PREPARATION = TrackOutcome.WIA_PREPARATION.value
    RETURNED_INTERNAL = TrackOutcome.RETURNED_INTERNAL.value
    CASE_CLOSED = TrackOutcome.CASE_CLOSED.value


def _known_deadline(code: str) -> str:
    if code not in DEADLINE_CODES:
        raise ValueError(f"unknown deadline code; one of: {', '.join(sorted(DEADLINE_CODES))}")
    return code


DeadlineCode = Annotated[str, AfterValidator(_known_deadline)]
_DEADLINE_CODE_LIST: list[JsonValue] = [code for code in sorted(DEADLINE_CODES)]

Count = Annotated[StrictInt, Field(ge=0, le=1_000_000)]
Hours = Annotated[StrictFloat, Field(gt=0, le=80, allow_inf_nan=False)]
Percentage = Annotated[StrictFloat, Field(ge=0, le=200, allow_inf_nan=False)]
HoursPercentage = Annotated[StrictFloat, Field(gt=0, le=200, allow_inf_nan=False)]
Weeks = Annotated[StrictInt, Field(ge=1, le=WAGE_SANCTION_MAX_WEEKS)]
Euros = Annotated[StrictFloat, Field(ge=0, le=10_000_000, allow_inf_nan=False)]


def _ordered(start: date | None, end: date | None, start_name: str, end_name: str) -> None:
    if start is not None and end is not None and end < start:
        raise ValueError(f"{end_name} is before {start_name}")


# ---------------------------------------------------------------------------------------------------------
# Shared bases


class GenericDetails(StrictModel):
    """Fields any meeting-like activity may log; all optional."""

    participants: list[ShortText] = _texts("Who took part (names or roles).")
    duration_minutes: StrictInt | None = Field(None, ge=1, le=1440, description="How long it took.")
    location: str | None = _name("Where it took place (address, 'video call').")


class SubmissionDetails(StrictModel):
    """A notification, application or report sent to a third party (occupational health service, UWV)."""

    reference: str | None = _name("The recipient's reference or case number.")
    submitted_via: SubmissionChannel | None = Field(None, description="How it was sent.")
    remarks: str | None = _text("Remarks about the submission.")


class PhysicianEmployerView(StrictModel):
    """The employer-side part of an occupational physician's document (A3).

    Only what the physician may share with the employer: functional limitations and capacities, expected
    duration, degree of incapacity, advised adjustments, and the yes/no flags for safety-net cases, work
    accidents and third-party liability. There is deliberately NO field for a diagnosis, a complaint, a
    treatment, medication or symptoms (A4): the medical part of the physician's record is a separate
    structure, visible to the physician alone and handled elsewhere; it is never part of `details`.
    """

    functional_limitations: str | None = _text(
        "What the employee can and cannot do in work terms (e.g. 'no lifting over 10 kg', 'at most "
        "4 hours a day'), never the cause."
    )
    capacities: str | None = _text("The employee's remaining capacities for work.")
    expected_duration: ExpectedDuration | None = Field(None, description="Expected duration of the absence.")
    expected_recovery_on: IsoDate | None = Field(None, description="Expected date of (partial) recovery.")
    degree_of_incapacity: DegreeOfIncapacity | None = Field(
        None, description="Degree of incapacity for the own work."
    )
    advised_adjustments: str | None = _text("Advised adjustments to work, hours or workplace.")
    reintegration_advice: str | None = _text("The physician's advice on the reintegration steps.")
    long_term_absence_expected: bool | None = _flag("Whether a long-term absence is expected (T2).")
    safety_net_case: bool | None = _flag("Whether this is a safety-net (vangnet) case.")
    work_accident: bool | None = _flag("Whether the absence follows a work accident.")
    third_party_liability: bool | None = _flag("Whether a third party may be liable (recourse).")
    next_consultation_on: IsoDate | None = Field(None, description="Date of the next consultation, if set.")


class _BothViews(StrictModel):
    employer_view: str | None = _text("The employer's view.")
    employee_view: str | None = _text("The employee's view.")


class PlacementDetails(StrictModel):
    employer: str = _name("The employer the employee works for in the placement.", required=True)
    role: str | None = _name("The role or position.")
    starts_on: IsoDate | None = Field(None, description="First day of the placement.")
    ends_on: IsoDate | None = Field(None, description="Last day of the placement (on or after starts_on).")
    hours_per_week: Hours | None = Field(None, description="Agreed hours per week.")
    paid: StrictBool | None = Field(None, description="Whether the host employer pays the employee.")
    remarks: str | None = _text("Remarks about the placement.")

    @model_validator(mode="after")
    def _dates_in_order(self) -> Self:
        _ordered(self.starts_on, self.ends_on, "starts_on", "ends_on")
        return self


# ---------------------------------------------------------------------------------------------------------
# Statutory documents and case-level records


class OccupationalHealthNotificationDetails(SubmissionDetails):
    occupational_health_service: str | None = _name("The occupational health service or physician notified.")


class ProblemAnalysisDetails(PhysicianEmployerView):
    """Employer-side part of the problem analysis (T2). No diagnosis, complaint or treatment (A4)."""


class ProblemAnalysisUpdateDetails(PhysicianEmployerView):
    """Employer-side part of an updated problem analysis. No diagnosis, complaint or treatment (A4)."""

    changes: str | None = _text("What changed since the previous analysis, in work terms.")


class CurrentAssessmentDetails(PhysicianEmployerView):
    """Employer-side part of the current assessment (T9). No diagnosis, complaint or treatment (A4)."""

    changes: str | None = _text("What changed since the previous assessment, in work terms.")


class PhysicianConsultationDetails(PhysicianEmployerView):
    """Employer-side part of a consultation. No diagnosis, complaint or treatment (A4)."""

    requested_by: Party | None = Field(None, description="Who asked for the consultation.")


class ActionPlanDetails(StrictModel):
    """The action plan (T3). A draft is a valid record; `counts_for_deadline` says when it satisfies T3."""

    case_manager: str = _name("The case manager named in the plan.", required=True)
    signed_by_employer: StrictBool = Field(False, description="Signed by the employer.")
    signed_by_employee: StrictBool = Field(False, description="Signed by the employee.")
    signed_on: IsoDate | None = Field(None, description="Date of the last signature.")
    employer_view: str | None = _text(
        "The employer's view on the plan (required for T3 from first sick day 2023-07-01)."
    )
    employee_view: str | None = _text(
        "The employee's view on the plan (required for T3 from first sick day 2023-07-01)."
    )
    goals: list[ShortText] = _texts("The agreed goals (work terms).")
    agreements: str | None = _text("The agreed activities, who does what and when.")
    evaluation_interval_days: StrictInt | None = Field(
        None, ge=7, le=182, description="Agreed interval between evaluations (T4), when not the default."
    )


class ActionPlanUpdateDetails(ActionPlanDetails):
    changes: str | None = _text("What changed in the plan and why.")


class EvaluationDetails(GenericDetails, _BothViews):
    progress_summary: str | None = _text("The progress since the plan or the previous evaluation.")
    plan_adjusted: StrictBool | None = Field(None, description="Whether the plan was adjusted.")
    next_evaluation_on: IsoDate | None = Field(None, description="Date agreed for the next evaluation.")


class FirstYearEvaluationDetails(GenericDetails, _BothViews):
    """T6: satisfies its deadline only with both parties' views."""

    track_2_needed: StrictBool | None = Field(None, description="Whether Track 2 is to start (T7).")
    outcome_summary: str | None = _text("Summary of the first year's results and the way forward.")


class FinalEvaluationDetails(GenericDetails, _BothViews):
    outcome_summary: str | None = _text("Summary of the reintegration results for the RIV.")


class EmployeeViewDetails(StrictModel):
    view: str = _text("The employee's view in their own words.", required=True)
    agrees_with_plan: StrictBool | None = Field(
        None, description="Whether the employee agrees with the plan."
    )
    regarding: ActivityKind | None = Field(None, description="The document the view is about, if any.")


class UwvSickNotificationDetails(SubmissionDetails):
    late_reason: str | None = _text("Why the notification was late, if it was.")


class WiaApplicationDetails(SubmissionDetails):
    pass


class RivSubmissionDetails(SubmissionDetails):
    pass


class EarlyIvaApplicationDetails(SubmissionDetails):
    pass


class LabourExpertAssessmentDetails(StrictModel):
    expert: str | None = _name("The labour expert.")
    conclusion: str | None = _text("The labour expert's conclusion.")
    own_work_suitable: StrictBool | None = Field(None, description="Whether the own work is suitable.")
    other_work_suitable: StrictBool | None = Field(
        None, description="Whether other work (internal or external) is suitable."
    )
    suitable_roles: list[ShortText] = _texts("Roles found suitable.")


class ExpertOpinionRequestDetails(StrictModel):
    question: ExpertOpinionQuestion = Field(description="What UWV is asked to judge.")
    requested_by: Party = Field(description="Who requests the expert opinion (employer or employee).")
    reference: str | None = _name("UWV's reference.")
    uwv_outcome: str | None = _text("UWV's answer, once received.")


class EmployeeContactDetails(GenericDetails):
    channel: ContactChannel | None = Field(None, description="How the contact took place.")
    initiated_by: Party | None = Field(None, description="Who initiated the contact.")
    agreements: str | None = _text("What was agreed.")


class VoluntaryExtensionDetails(StrictModel):
    weeks: Weeks = Field(description="Weeks the waiting period is extended by (P12).")
    uwv_decision_on: IsoDate | None = Field(None, description="Date of UWV's approval.")
    reference: str | None = _name("UWV's reference.")


class WageSanctionDetails(StrictModel):
    weeks: Weeks = Field(description="Weeks of the wage sanction (P12, at most 52).")
    uwv_decision_reference: str | None = _name("Reference of UWV's decision.")
    uwv_decision_on: IsoDate | None = Field(None, description="Date of UWV's decision.")
    ground: str | None = _text("UWV's ground for the sanction.")


class DeadlineWaiverDetails(StrictModel):
    deadline: DeadlineCode = Field(
        description="The deadline code waived (catalogue T1-T12, e.g. final_evaluation).",
        json_schema_extra={"enum": _DEADLINE_CODE_LIST},
    )
    reason: str = _text("Why the deadline is waived.", required=True, max_length=500)


# ---------------------------------------------------------------------------------------------------------
# Track 1


class RoleConsidered(StrictModel):
    role: str = _name("An internal role.", required=True)
    suitable: StrictBool = Field(description="Whether it fits the employee's capacities.")
    reason: str | None = _text("Why it is or is not suitable, in work terms.", max_length=1000)


class JobInventoryDetails(StrictModel):
    roles_considered: list[RoleConsidered] = Field(
        min_length=1, max_length=200, description="Each internal role compared with the capacities."
    )
    conclusion: str | None = _text("The inventory's conclusion.")


class WorkplaceAdjustmentDetails(StrictModel):
    adjustment: str = _text("The adjustment (equipment, hours, tasks).", required=True)
    implemented: StrictBool | None = Field(None, description="Whether it is in place.")
    supplier: str | None = _name("Supplier or party implementing it.")
    cost_eur: Euros | None = Field(None, description="Cost in euros.")


class WorkResumptionDetails(StrictModel):
    """A Track 1 resumption. `structural` with `wage_value_percentage` >= 65 is P9's satisfactory result."""

    hours_per_week: Hours | None = Field(None, description="Hours worked per week.")
    percentage_of_original_hours: HoursPercentage | None = Field(
        None, description="Hours as a percentage of the original contract hours."
    )
    wage_value_percentage: Percentage = Field(
        description="Wage value of the work as a percentage of the original wage (P9)."
    )
    work_type: WorkType | None = Field(None, description="Own work, adapted own work or other internal work.")
    structural: StrictBool = Field(False, description="A structural, lasting resumption (P9).")
    role: str | None = _name("The role resumed.")
    build_up_schedule: str | None = _text("The agreed build-up of hours.")

    @model_validator(mode="after")
    def _hours_or_percentage(self) -> Self:
        if self.hours_per_week is None and self.percentage_of_original_hours is None:
            raise ValueError("give hours_per_week or percentage_of_original_hours (or both)")
        return self


class ConclusionDetails(StrictModel):
    conclusion: Conclusion = Field(description="The conclusion (e.g. no_internal_prospect, P3).")
    explanation: str | None = _text("The reasoning behind the conclusion.")


# ---------------------------------------------------------------------------------------------------------
# Track 2


class IntakeMeetingDetails(GenericDetails):
    provider: str | None = _name("The reintegration provider running Track 2.")
    agreements: str | None = _text("What was agreed at the intake.")


class PersonalProfileDetails(StrictModel):
    education: str | None = _name("Highest education completed.")
    work_experience: str | None = _text("Work experience.")
    skills: list[ShortText] = _texts("Skills.")
    interests: str | None = _text("Work interests and wishes.")
    max_travel_minutes: StrictInt | None = Field(
        None, ge=0, le=600, description="Longest acceptable commute."
    )
    driving_licence: StrictBool | None = Field(
        None, description="Whether the employee holds a driving licence."
    )


class TrajectoryPlanDetails(StrictModel):
    provider: str | None = _name("The reintegration provider.")
    agreed_reporting_interval_days: StrictInt = Field(
        ge=7, le=91, description="Agreed interval of progress reports in days (T8)."
    )
    planned_end_on: IsoDate | None = Field(None, description="Planned end of the trajectory.")
    goals: list[ShortText] = _texts("The trajectory's goals.")
    budget_eur: Euros | None = Field(None, description="Budget in euros.")


class LabourMarketAnalysisDetails(StrictModel):
    region: str | None = _name("The region analysed.")
    suitable_roles: list[ShortText] = _texts("Roles with prospects that fit the capacities.")
    conclusion: str | None = _text("The analysis's conclusion on the prospects.")


class JobSearchProfileDetails(StrictModel):
    target_roles: list[ShortText] = _texts("Roles the employee searches for.", min_items=1)
    sectors: list[ShortText] = _texts("Sectors.")
    region: str | None = _name("Search region.")
    max_travel_minutes: StrictInt | None = Field(
        None, ge=0, le=600, description="Longest acceptable commute."
    )
    hours_per_week: Hours | None = Field(None, description="Hours per week sought.")


class VacancySearchDetails(StrictModel):
    sources: list[ShortText] = _texts("Where was searched (job boards, agencies, network).")
    search_terms: list[ShortText] = _texts("Search terms used.")
    vacancies_found: Count | None = Field(None, description="Vacancies found.")
    vacancies_suitable: Count | None = Field(None, description="Of those, the suitable ones.")

    @model_validator(mode="after")
    def _suitable_within_found(self) -> Self:
        found, suitable = self.vacancies_found, self.vacancies_suitable
        if found is not None and suitable is not None and suitable > found:
            raise ValueError("vacancies_suitable exceeds vacancies_found")
        return self


class EmployerContactDetails(StrictModel):
    employer: str = _name("The prospective employer.", required=True)
    contact_person: str | None = _name("The contact person.")
    channel: ContactChannel | None = Field(None, description="How the contact took place.")
    result: str | None = _text("The result of the contact.")


class NetworkMeetingDetails(GenericDetails):
    contacts_made: Count | None = Field(None, description="New contacts made.")
    follow_up: str | None = _text("Agreed follow-up.")


class SecondmentDetails(PlacementDetails):
    pass


class WorkExperiencePlacementDetails(PlacementDetails):
    pass


class JobPlacementDetails(PlacementDetails):
    contract_type: ContractType | None = Field(None, description="The contract offered.")


class _ReportBase(StrictModel):
    applications_count: Count | None = Field(None, description="Job applications in the period.")
    interviews_count: Count | None = Field(None, description="Job interviews in the period.")
    summary_of_results: str | None = _text("Summary of the results in the period.")


class ProgressReportDetails(_ReportBase):
    period_from: IsoDate = Field(description="First day of the reported period.")
    period_to: IsoDate = Field(description="Last day of the reported period.")

    @model_validator(mode="after")
    def _period_in_order(self) -> Self:
        _ordered(self.period_from, self.period_to, "period_from", "period_to")
        return self


class FinalReportDetails(_ReportBase):
    period_from: IsoDate | None = Field(None, description="First day of the reported period.")
    period_to: IsoDate | None = Field(None, description="Last day of the reported period.")
    outcome: FinalReportOutcome | None = Field(None, description="How Track 2 ends (P5).")

    @model_validator(mode="after")
    def _period_in_order(self) -> Self:
        _ordered(self.period_from, self.period_to, "period_from", "period_to")
        return self


# ---------------------------------------------------------------------------------------------------------
# Either track


class JobApplicationDetails(StrictModel):
    employer: str = _name("The employer applied to.", required=True)
    vacancy: str = _name("The vacancy's title or reference.", required=True)
    result: ApplicationResult = Field(description="The application's result so far.")
    applied_via: str | None = _name("Channel (company website, job board, agency, network).")
    vacancy_url: str | None = Field(
        None, max_length=2000, pattern=r"^https?://\S+$", description="Link to the vacancy."
    )


class JobInterviewDetails(StrictModel):
    employer: str = _name("The employer.", required=True)
    vacancy: str | None = _name("The vacancy's title or reference.")
    result: InterviewResult | None = Field(None, description="The interview's result so far.")
    notes: str | None = _text("Notes on the interview.")


class TrainingDetails(StrictModel):
    provider: str | None = _name("The training provider.")
    course: str = _name("The course.", required=True)
    starts_on: IsoDate | None = Field(None, description="First day.")
    ends_on: IsoDate | None = Field(None, description="Last day (on or after starts_on).")
    completed: StrictBool | None = Field(None, description="Whether it was completed.")
    certificate: StrictBool | None = Field(None, description="Whether a certificate or diploma was obtained.")
    cost_eur: Euros | None = Field(None, description="Cost in euros.")

    @model_validator(mode="after")
    def _dates_in_order(self) -> Self:
        _ordered(self.starts_on, self.ends_on, "starts_on", "ends_on")
        return self


class CoachingSessionDetails(GenericDetails):
    coach: str | None = _name("The coach.")
    topic: str | None = _text("The session's topic (job search, work skills).", max_length=NAME_MAX)


# ---------------------------------------------------------------------------------------------------------

_K = ActivityKind

DETAILS_MODELS: Mapping[ActivityKind, type[StrictModel]] = MappingProxyType(
    {
        _K.OCCUPATIONAL_HEALTH_NOTIFICATION: OccupationalHealthNotificationDetails,
        _K.PROBLEM_ANALYSIS: ProblemAnalysisDetails,
        _K.PROBLEM_ANALYSIS_UPDATE: ProblemAnalysisUpdateDetails,
        _K.ACTION_PLAN: ActionPlanDetails,
        _K.ACTION_PLAN_UPDATE: ActionPlanUpdateDetails,
        _K.EVALUATION: EvaluationDetails,
        _K.FIRST_YEAR_EVALUATION: FirstYearEvaluationDetails,
        _K.CURRENT_ASSESSMENT: CurrentAssessmentDetails,
        _K.FINAL_EVALUATION: FinalEvaluationDetails,
        _K.EMPLOYEE_VIEW: EmployeeViewDetails,
        _K.UWV_SICK_NOTIFICATION: UwvSickNotificationDetails,
        _K.WIA_APPLICATION: WiaApplicationDetails,
        _K.RIV_SUBMISSION: RivSubmissionDetails,
        _K.EARLY_IVA_APPLICATION: EarlyIvaApplicationDetails,
        _K.LABOUR_EXPERT_ASSESSMENT: LabourExpertAssessmentDetails,
        _K.EXPERT_OPINION_REQUEST: ExpertOpinionRequestDetails,
        _K.PHYSICIAN_CONSULTATION: PhysicianConsultationDetails,
        _K.EMPLOYEE_CONTACT: EmployeeContactDetails,
        _K.VOLUNTARY_EXTENSION: VoluntaryExtensionDetails,
        _K.WAGE_SANCTION: WageSanctionDetails,
        _K.DEADLINE_WAIVER: DeadlineWaiverDetails,
        _K.JOB_INVENTORY: JobInventoryDetails,
        _K.WORKPLACE_ADJUSTMENT: WorkplaceAdjustmentDetails,
        _K.WORK_RESUMPTION: WorkResumptionDetails,
        _K.CONCLUSION: ConclusionDetails,
        _K.INTAKE_MEETING: IntakeMeetingDetails,
        _K.PERSONAL_PROFILE: PersonalProfileDetails,
        _K.TRAJECTORY_PLAN: TrajectoryPlanDetails,
        _K.LABOUR_MARKET_ANALYSIS: LabourMarketAnalysisDetails,
        _K.JOB_SEARCH_PROFILE: JobSearchProfileDetails,
        _K.VACANCY_SEARCH: VacancySearchDetails,
        _K.EMPLOYER_CONTACT: EmployerContactDetails,
        _K.NETWORK_MEETING: NetworkMeetingDetails,
        _K.SECONDMENT: SecondmentDetails,
        _K.WORK_EXPERIENCE_PLACEMENT: WorkExperiencePlacementDetails,
        _K.JOB_PLACEMENT: JobPlacementDetails,
        _K.PROGRESS_REPORT: ProgressReportDetails,
        _K.FINAL_REPORT: FinalReportDetails,
        _K.JOB_APPLICATION: JobApplicationDetails,
        _K.JOB_INTERVIEW: JobInterviewDetails,
        _K.TRAINING: TrainingDetails,
        _K.COACHING_SESSION: CoachingSessionDetails,
    }
)
"""The `details` model of every activity kind (A1)."""


def validate_details(kind: ActivityKind, raw: Mapping[str, Any] | None) -> StrictModel:
    """Validate an activity's `details` against its kind's model; None counts as `{}`.

    Raises pydantic's ValidationError (locations relative to `details`; callers prefix them).
    """
    return DETAILS_MODELS[ActivityKind(kind)].model_validate({} if raw is None else raw)


def details_json(details: StrictModel) -> str:
    """The JSON text to store (dates as ISO strings, unset optional fields left out), serialised once by
    pydantic's own encoder: the write paths send it as is, a batch thousands of times."""
    return details.model_dump_json(exclude_none=True)


def _filled(text: str | None) -> bool:
    return text is not None and text.strip() != ""


def counts_for_deadline(
    kind: ActivityKind, details_model: StrictModel | Mapping[str, Any] | None, first_sick_day: date
) -> bool:
    """Whether a valid record of `kind` meets the requirements to satisfy its deadline.

    - T3 `action_plan`: the case manager named, signed by employer and employee, and for a first sick day
      on or after 2023-07-01 (Stcrt. 2023, 13931) both the employer's and the employee's view.
    - T6 `first_year_evaluation`: both parties' views.
    - Every other kind: True.

    `details_model` may be the validated model or its raw/stored form (validated here; a
    ValidationError propagates).
    """
    kind = ActivityKind(kind)
    model = details_model if isinstance(details_model, StrictModel) else None
    if model is None or not isinstance(model, DETAILS_MODELS[kind]):
        raw = details_model.model_dump() if isinstance(details_model, StrictModel) else details_model
        model = validate_details(kind, raw)
    if kind is ActivityKind.ACTION_PLAN:
        assert isinstance(model, ActionPlanDetails)
        complete = _filled(model.case_manager) and model.signed_by_employer and model.signed_by_employee
        if first_sick_day >= ACTION_PLAN_VIEWS_REQUIRED_FROM:
            complete = complete and _filled(model.employer_view) and _filled(model.employee_view)
        return complete
    if kind is ActivityKind.FIRST_YEAR_EVALUATION:
        assert isinstance(model, FirstYearEvaluationDetails)
        return _filled(model.employer_view) and _filled(model.employee_view)
    return True
