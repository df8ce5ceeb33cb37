"""The one closed list of activity kinds (A1, A2) and the enums of tracks that name them.

Every activity has a kind from `ActivityKind`. `ACTIVITY_KINDS` holds the facts per kind as data:
whether it is a statutory document (A2), whether only the occupational physician may record it and
whether it may carry a medical part (A3), where it may be recorded (case level or which track), and
which timeline deadline codes (T1-T13) recording it satisfies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from app.domain.errors import InvalidInput


class TrackKind(StrEnum):
    """Track 1 (own employer) and Track 2 (another employer)."""

    TRACK_1 = "track_1"
    TRACK_2 = "track_2"


class TrackStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class TrackOutcome(StrEnum):
    """How a track closes (P4 for Track 1, P5 for Track 2)."""

    SUSTAINABLE_RETURN = "sustainable_return"
    CASE_CLOSED = "case_closed"
    # Only behind the small-employer setting (P4), which is off: not law yet.
    NO_INTERNAL_PROSPECT = "no_internal_prospect"
    PLACED_EXTERNAL = "placed_external"
    WORK_EXPERIENCE_OR_SECONDMENT = "work_experience_or_secondment"
    WIA_PREPARATION = "wia_preparation"
    RETURNED_INTERNAL = "returned_internal"


TRACK_1_OUTCOMES: frozenset[TrackOutcome] = frozenset(
    {TrackOutcome.SUSTAINABLE_RETURN, TrackOutcome.CASE_CLOSED}
)
"""P4: the outcomes Track 1 may close with (without the small-employer setting)."""

TRACK_2_OUTCOMES: frozenset[TrackOutcome] = frozenset(
    {
        TrackOutcome.PLACED_EXTERNAL,
        TrackOutcome.WORK_EXPERIENCE_OR_SECONDMENT,
        TrackOutcome.WIA_PREPARATION,
        TrackOutcome.RETURNED_INTERNAL,
        TrackOutcome.CASE_CLOSED,
    }
)
"""P5: the outcomes Track 2 may close with."""

TRACK_2_EARLY_OUTCOMES: frozenset[TrackOutcome] = frozenset(
    {TrackOutcome.CASE_CLOSED, TrackOutcome.RETURNED_INTERNAL}
)
"""P5: the outcomes that may close Track 2 before it reached its final phase."""


class Track2WaiverReason(StrEnum):
    """P7: the reasons a Track 2 may be waived."""

    RETURN_WITHIN_3_MONTHS = "return_within_3_months"
    MARGINAL_CAPACITY = "marginal_capacity"
    RETIREMENT_WITHIN_1_YEAR = "retirement_within_1_year"


class Conclusion(StrEnum):
    """Values of a `conclusion` activity's `conclusion` detail."""

    # Leaves Track 1's resumption phase when no internal return is in prospect.
    NO_INTERNAL_PROSPECT = "no_internal_prospect"


class ActivityScope(StrEnum):
    """Where an activity of a kind is recorded: on the case itself, or in a track of a kind."""

    CASE = "case"
    TRACK_1 = "track_1"
    TRACK_2 = "track_2"
    ANY_TRACK = "any_track"


class ActivityKind(StrEnum):
    # Statutory documents and case-level records (A2).
    OCCUPATIONAL_HEALTH_NOTIFICATION = "occupational_health_notification"
    PROBLEM_ANALYSIS = "problem_analysis"
    PROBLEM_ANALYSIS_UPDATE = "problem_analysis_update"
    ACTION_PLAN = "action_plan"
    ACTION_PLAN_UPDATE = "action_plan_update"
    EVALUATION = "evaluation"
    FIRST_YEAR_EVALUATION = "first_year_evaluation"
    CURRENT_ASSESSMENT = "current_assessment"
    FINAL_EVALUATION = "final_evaluation"
    EMPLOYEE_VIEW = "employee_view"
    UWV_SICK_NOTIFICATION = "uwv_sick_notification"
    WIA_APPLICATION = "wia_application"
    RIV_SUBMISSION = "riv_submission"
    EARLY_IVA_APPLICATION = "early_iva_application"
    LABOUR_EXPERT_ASSESSMENT = "labour_expert_assessment"
    EXPERT_OPINION_REQUEST = "expert_opinion_request"
    PHYSICIAN_CONSULTATION = "physician_consultation"
    EMPLOYEE_CONTACT = "employee_contact"
    # Decisions that move the end of the waiting period (P12) or waive a deadline (T10).
    VOLUNTARY_EXTENSION = "voluntary_extension"
    WAGE_SANCTION = "wage_sanction"
    DEADLINE_WAIVER = "deadline_waiver"
    # Track 1: return within the own employer.
    JOB_INVENTORY = "job_inventory"
    WORKPLACE_ADJUSTMENT = "workplace_adjustment"
    WORK_RESUMPTION = "work_resumption"
    CONCLUSION = "conclusion"
    # Track 2: placement with another employer.
    INTAKE_MEETING = "intake_meeting"
    PERSONAL_PROFILE = "personal_profile"
    TRAJECTORY_PLAN = "trajectory_plan"
    LABOUR_MARKET_ANALYSIS = "labour_market_analysis"
    JOB_SEARCH_PROFILE = "job_search_profile"
    VACANCY_SEARCH = "vacancy_search"
    EMPLOYER_CONTACT = "employer_contact"
    NETWORK_MEETING = "network_meeting"
    SECONDMENT = "secondment"
    WORK_EXPERIENCE_PLACEMENT = "work_experience_placement"
    JOB_PLACEMENT = "job_placement"
    PROGRESS_REPORT = "progress_report"
    FINAL_REPORT = "final_report"
    # Either track.
    JOB_APPLICATION = "job_application"
    JOB_INTERVIEW = "job_interview"
    TRAINING = "training"
    COACHING_SESSION = "coaching_session"


@dataclass(frozen=True, slots=True)
class ActivityKindFacts:
    kind: ActivityKind
    title: str
    statutory_document: bool
    physician_only: bool
    may_carry_medical_part: bool
    scope: ActivityScope
    satisfies: frozenset[str]
    """Deadline codes of the timeline (domain.md T1-T13) that an activity of this kind satisfies."""

    @property
    def allowed_track_kinds(self) -> frozenset[TrackKind]:
        """The track kinds it may be recorded in; empty for case-level kinds."""
        return _TRACKS_BY_SCOPE[self.scope]


_TRACKS_BY_SCOPE: Mapping[ActivityScope, frozenset[TrackKind]] = MappingProxyType(
    {
        ActivityScope.CASE: frozenset(),
        ActivityScope.TRACK_1: frozenset({TrackKind.TRACK_1}),
        ActivityScope.TRACK_2: frozenset({TrackKind.TRACK_2}),
        ActivityScope.ANY_TRACK: frozenset(TrackKind),
    }
)


def _document(kind: ActivityKind, title: str, *satisfies: str, physician: bool = False) -> ActivityKindFacts:
    # A3: only the physician's own documents may carry a medical part.
    return ActivityKindFacts(
        kind, title, True, physician, physician, ActivityScope.CASE, frozenset(satisfies)
    )


def _effort(kind: ActivityKind, title: str, scope: ActivityScope, *satisfies: str) -> ActivityKindFacts:
    return ActivityKindFacts(kind, title, False, False, False, scope, frozenset(satisfies))


_K = ActivityKind
_S = ActivityScope

_TABLE: tuple[ActivityKindFacts, ...] = (
    _document(
        _K.OCCUPATIONAL_HEALTH_NOTIFICATION,
        "Sick report to the occupational health service",
        "occupational_health_notified",
    ),
    _document(_K.PROBLEM_ANALYSIS, "Problem analysis", "problem_analysis", physician=True),
    _document(_K.PROBLEM_ANALYSIS_UPDATE, "Problem analysis update", physician=True),
    _document(_K.ACTION_PLAN, "Action plan", "action_plan"),
    _document(_K.ACTION_PLAN_UPDATE, "Action plan update", "action_plan_evaluation"),
    _document(_K.EVALUATION, "Action plan evaluation", "action_plan_evaluation"),
    _document(_K.FIRST_YEAR_EVALUATION, "First-year evaluation", "first_year_evaluation"),
    _document(_K.CURRENT_ASSESSMENT, "Current assessment", "current_assessment", physician=True),
    _document(_K.FINAL_EVALUATION, "Final evaluation", "final_evaluation"),
    _document(_K.EMPLOYEE_VIEW, "Employee's view"),
    _document(_K.UWV_SICK_NOTIFICATION, "42nd-week notification to UWV", "uwv_sick_notification"),
    _document(_K.WIA_APPLICATION, "WIA application", "wia_application"),
    _document(_K.RIV_SUBMISSION, "Reintegration report submitted", "riv_submission"),
    # An early IVA application is a WIA application, so it satisfies T11 as well (catalogue T11).
    _document(_K.EARLY_IVA_APPLICATION, "Early IVA application", "early_iva", "wia_application"),
    _document(_K.LABOUR_EXPERT_ASSESSMENT, "Labour expert assessment"),
    _document(_K.EXPERT_OPINION_REQUEST, "Expert opinion request to UWV"),
    ActivityKindFacts(
        _K.PHYSICIAN_CONSULTATION,
        "Consultation with the occupational physician",
        False,
        True,
        True,
        _S.CASE,
        frozenset(),
    ),
    _effort(_K.EMPLOYEE_CONTACT, "Contact between employer and employee", _S.CASE),
    _document(_K.VOLUNTARY_EXTENSION, "Voluntary extension of the waiting period (agreed, UWV-approved)"),
    _document(_K.WAGE_SANCTION, "Wage sanction imposed by UWV"),
    _document(_K.DEADLINE_WAIVER, "Deadline waived with a recorded reason"),
    _effort(_K.JOB_INVENTORY, "Inventory of internal jobs against capacities", _S.TRACK_1),
    _effort(_K.WORKPLACE_ADJUSTMENT, "Workplace adjustment", _S.TRACK_1),
    _effort(_K.WORK_RESUMPTION, "Work resumption (own, adapted or other internal work)", _S.TRACK_1),
    _effort(_K.CONCLUSION, "Track 1 conclusion", _S.TRACK_1),
    _effort(_K.INTAKE_MEETING, "Track 2 intake meeting", _S.TRACK_2),
    _effort(_K.PERSONAL_PROFILE, "Personal profile", _S.TRACK_2),
    _effort(_K.TRAJECTORY_PLAN, "Trajectory plan", _S.TRACK_2),
    _effort(_K.LABOUR_MARKET_ANALYSIS, "Labour market analysis", _S.TRACK_2),
    _effort(_K.JOB_SEARCH_PROFILE, "Job search profile", _S.TRACK_2),
    _effort(_K.VACANCY_SEARCH, "Vacancy search", _S.TRACK_2),
    _effort(_K.EMPLOYER_CONTACT, "Contact with a prospective employer", _S.TRACK_2),
    _effort(_K.NETWORK_MEETING, "Network meeting", _S.TRACK_2),
    _effort(_K.SECONDMENT, "Secondment to another employer", _S.TRACK_2),
    _effort(_K.WORK_EXPERIENCE_PLACEMENT, "Work-experience placement", _S.TRACK_2),
    _effort(_K.JOB_PLACEMENT, "Placement with another employer", _S.TRACK_2),
    _effort(_K.PROGRESS_REPORT, "Track 2 progress report", _S.TRACK_2, "track_2_progress_report"),
    _effort(_K.FINAL_REPORT, "Track 2 final report", _S.TRACK_2),
    _effort(_K.JOB_APPLICATION, "Job application", _S.ANY_TRACK),
    _effort(_K.JOB_INTERVIEW, "Job interview", _S.ANY_TRACK),
    _effort(_K.TRAINING, "Training", _S.ANY_TRACK),
    _effort(_K.COACHING_SESSION, "Coaching session", _S.ANY_TRACK),
)

ACTIVITY_KINDS: Mapping[ActivityKind, ActivityKindFacts] = MappingProxyType({f.kind: f for f in _TABLE})
"""The per-kind facts, one entry for every `ActivityKind`."""


def kind_facts(kind: ActivityKind) -> ActivityKindFacts:
    return ACTIVITY_KINDS[kind]


def statutory_documents() -> frozenset[ActivityKind]:
    """A2: the kinds that are statutory documents."""
    return frozenset(f.kind for f in _TABLE if f.statutory_document)


def physician_only_kinds() -> frozenset[ActivityKind]:
    """A3: the kinds only the occupational physician may record."""
    return frozenset(f.kind for f in _TABLE if f.physician_only)


def kinds_satisfying(deadline_code: str) -> frozenset[ActivityKind]:
    """The kinds whose recording satisfies a deadline code (A2)."""
    return frozenset(f.kind for f in _TABLE if deadline_code in f.satisfies)


def kinds_allowed_in(track_kind: TrackKind | None) -> frozenset[ActivityKind]:
    """The kinds recordable in a track of `track_kind`, or on the case itself when None."""
    if track_kind is None:
        return frozenset(f.kind for f in _TABLE if f.scope is ActivityScope.CASE)
    return frozenset(f.kind for f in _TABLE if track_kind in f.allowed_track_kinds)


def may_record(kind: ActivityKind, *, is_occupational_physician: bool) -> bool:
    """A3: a physician-only kind may be recorded by the occupational physician alone."""
    return is_occupational_physician or not ACTIVITY_KINDS[kind].physician_only


def check_activity_placement(kind: ActivityKind, track_kind: TrackKind | None) -> None:
    """A1: a case-level kind is recorded on the case, a track kind in a track of an allowed kind.

    Raises InvalidInput: the combination is meaningless rather than refused by a rule of the process.
    """
    facts = ACTIVITY_KINDS[kind]
    if track_kind is None and facts.scope is not ActivityScope.CASE:
        allowed = ", ".join(sorted(facts.allowed_track_kinds))
        raise InvalidInput(
            f"a {kind} is recorded in a track ({allowed}), not on the case", rule="A1", missing=["track"]
        )
    if track_kind is not None and track_kind not in facts.allowed_track_kinds:
        where = "on the case" if facts.scope is ActivityScope.CASE else f"in a {facts.scope} track"
        raise InvalidInput(f"a {kind} is recorded {where}, not in a {track_kind} track", rule="A1")
