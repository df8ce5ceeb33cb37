"""Reports: the reintegration report (RIV), the Track 2 progress and final reports, the compliance report
and the data behind the timeline picture.

Each report loads what it needs once (the case, its activities, tracks and phases, and the timeline via
`app.timeline.service.case_timeline`) and builds the rest in memory. Every report shows the case as known
on `as_of`: activities, tracks and phases dated after it are left out, a track closed after it is open.

Privacy (A3): reports read only the `activities` table's employer-side fields (`details`, `summary`,
`outcome`); `details` are further limited to the fields the kind's model defines. The physician's medical
part is stored elsewhere and never read here. Services never commit.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.activities.details import DETAILS_MODELS
from app.cases.schemas import CaseFlagsRead, EmployeeRead
from app.cases.service import get_case
from app.domain import catalogue
from app.domain import timeline as tl
from app.domain.activity_kinds import ACTIVITY_KINDS, ActivityKind
from app.domain.clock import SicknessPeriod
from app.domain.errors import InvalidInput, NotFound
from app.models.activities import Activity
from app.models.cases import Case
from app.models.cases import SicknessPeriod as StoredPeriod
from app.models.tracks import Track, TrackPhase
from app.reports.schemas import (
    Application,
    DocumentEntry,
    GeneralSection,
    Interview,
    MissingPart,
    PendingPart,
    Period,
    PhaseActivities,
    Placement,
    ReintegrationReport,
    ReportCase,
    ReportPhase,
    ReportTrack,
    Track2Report,
    Track2Totals,
    TrackSummary,
    Training,
)
from app.timeline.service import case_timeline
from app.tracks.service import get_track

PROGRESS_PERIOD_DAYS = 28
"""Default period of a Track 2 progress report: the last 28 days up to as_of (T8's interval)."""

# --- Loading -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActivityRow:
    id: uuid.UUID
    kind: str
    occurred_on: date
    track_id: uuid.UUID | None
    summary: str | None
    outcome: str | None
    details: dict[str, Any]


@dataclass(slots=True)
class TrackView:
    """A track as known on as_of."""

    id: uuid.UUID
    case_id: uuid.UUID
    kind: str
    status: str
    started_on: date
    ended_on: date | None
    outcome: str | None
    provider: str | None
    coach: str | None
    phases: list[ReportPhase] = field(default_factory=list)

    @property
    def phase(self) -> str:
        return self.phases[-1].phase if self.phases else ""

    @property
    def is_open(self) -> bool:
        return self.status == "open"


@dataclass(frozen=True, slots=True)
class CaseData:
    case: Case
    as_of: date
    timeline: tl.Timeline
    activities: list[ActivityRow]  # occurred on or before as_of, in date order
    tracks: list[TrackView]  # started on or before as_of, in start order
    periods: list[SicknessPeriod] = field(default_factory=list)  # only when asked for

    def by_kind(self, *kinds: str) -> list[ActivityRow]:
        return [a for a in self.activities if a.kind in kinds]

    def tracks_of(self, kind: str) -> list[TrackView]:
        return [t for t in self.tracks if t.kind == kind]


ACTIVITY_COLUMNS = (
    Activity.id,
    Activity.kind,
    Activity.occurred_on,
    Activity.track_id,
    Activity.summary,
    Activity.outcome,
    Activity.details,
)


def _rows(result: Iterable[Any]) -> list[ActivityRow]:
    return [
        ActivityRow(r.id, r.kind, r.occurred_on, r.track_id, r.summary, r.outcome, r.details or {})
        for r in result
    ]


async def load_case(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    case_id: uuid.UUID,
    as_of: date,
    horizon_days: int,
    *,
    with_periods: bool = False,
    with_activities: bool = True,
) -> CaseData:
    """The case (404 for another tenant's), its activities, tracks with phases, and timeline as of as_of;
    the sickness periods only `with_periods`."""
    case = await get_case(session, tenant_id, case_id)
    timeline = await case_timeline(session, case, as_of, horizon_days)
    activities: list[ActivityRow] = []
    if with_activities:
        activities = _rows(
            await session.execute(
                select(*ACTIVITY_COLUMNS)
                .where(Activity.case_id == case.id, Activity.occurred_on <= as_of)
                .order_by(Activity.occurred_on, Activity.created_at, Activity.id)
            )
        )
    tracks = await _tracks(session, select(Track).where(Track.case_id == case.id), as_of)
    periods: list[SicknessPeriod] = []
    if with_periods:
        periods = [
            SicknessPeriod(
                start=row.started_on,
                end=row.ended_on if row.ended_on is not None and row.ended_on <= as_of else None,
                pregnancy_leave_in_gap=row.pregnancy_leave_days > 0,
                pregnancy_leave_days=row.pregnancy_leave_days,
                same_cause_not_pregnancy=row.same_cause_not_pregnancy,
            )
            for row in await session.execute(
                select(
                    StoredPeriod.started_on,
                    StoredPeriod.ended_on,
                    StoredPeriod.pregnancy_leave_days,
                    StoredPeriod.same_cause_not_pregnancy,
                )
                .where(StoredPeriod.case_id == case.id, StoredPeriod.started_on <= as_of)
                .order_by(StoredPeriod.started_on)
            )
        ]
    return CaseData(case, as_of, timeline, activities, tracks, periods)


async def _tracks(session: AsyncSession, query: Any, as_of: date) -> list[TrackView]:
    tracks = list((await session.execute(query.order_by(Track.started_on, Track.id))).scalars())
    views = [_track_as_of(t, as_of) for t in tracks if t.started_on <= as_of]
    if not views:
        return []
    by_id = {v.id: v for v in views}
    phases = await session.execute(
        select(TrackPhase.track_id, TrackPhase.phase, TrackPhase.entered_on, TrackPhase.left_on)
        .where(TrackPhase.track_id.in_(list(by_id)), TrackPhase.entered_on <= as_of)
        .order_by(TrackPhase.track_id, TrackPhase.position)
    )
    for row in phases:
        left_on = row.left_on if row.left_on is not None and row.left_on <= as_of else None
        by_id[row.track_id].phases.append(
            ReportPhase(phase=row.phase, entered_on=row.entered_on, left_on=left_on)
        )
    return views


def _track_as_of(track: Track, as_of: date) -> TrackView:
    ended = track.ended_on is not None and track.ended_on <= as_of
    return TrackView(
        id=track.id,
        case_id=track.case_id,
        kind=track.kind,
        status="closed" if ended else "open",
        started_on=track.started_on,
        ended_on=track.ended_on if ended else None,
        outcome=track.outcome if ended else None,
        provider=track.provider,
        coach=track.coach,
    )


def report_case(data: CaseData) -> ReportCase:
    case, timeline = data.case, data.timeline
    return ReportCase(
        id=case.id,
        employee=EmployeeRead(external_ref=case.employee_ref, display_name=case.employee_display_name),
        first_sick_day=case.first_sick_day,
        case_manager=case.case_manager,
        status=case.status,
        flags=CaseFlagsRead(
            safety_net=case.safety_net,
            work_accident=case.work_accident,
            third_party_liability=case.third_party_liability,
        ),
        sick_day=timeline.sick_day,
        week=timeline.week,
        waiting_period_ends_on=timeline.waiting_period.ends_on,
    )


# --- Documents ---------------------------------------------------------------------------------------

# The detail fields each kind documents, in the model's order (JSONB does not keep the stored order).
_DETAIL_FIELDS = {kind: tuple(model.model_fields) for kind, model in DETAILS_MODELS.items()}


def kind_title(kind: str) -> str:
    try:
        return ACTIVITY_KINDS[ActivityKind(kind)].title
    except ValueError:
        return kind.replace("_", " ")


def document(activity: ActivityRow) -> DocumentEntry:
    """An activity's employer-side fields; only the detail fields its kind defines (A3, A4)."""
    details = activity.details
    return DocumentEntry(
        activity_id=activity.id,
        kind=activity.kind,
        title=kind_title(activity.kind),
        occurred_on=activity.occurred_on,
        summary=activity.summary,
        outcome=activity.outcome,
        details={
            name: details[name]
            for name in _DETAIL_FIELDS.get(ActivityKind(activity.kind), ())
            if name in details
        },
    )


@dataclass(frozen=True, slots=True)
class SectionSpec:
    key: str
    title: str
    rule: str | None
    kinds: tuple[str, ...]


GENERAL_PART = (
    SectionSpec(
        "problem_analysis",
        "Problem analysis and updates",
        "T2",
        ("problem_analysis", "problem_analysis_update"),
    ),
    SectionSpec("action_plan", "Action plan and updates", "T3", ("action_plan", "action_plan_update")),
    SectionSpec("evaluations", "Evaluations of the action plan", "T4", ("evaluation",)),
    SectionSpec("first_year_evaluation", "First-year evaluation", "T6", ("first_year_evaluation",)),
    SectionSpec("current_assessment", "Current assessment", "T9", ("current_assessment",)),
    SectionSpec("final_evaluation", "Final evaluation", "T10", ("final_evaluation",)),
    SectionSpec("employee_view", "The employee's view", "A2", ("employee_view",)),
    SectionSpec("labour_expert_assessment", "Labour expert assessment", "P10", ("labour_expert_assessment",)),
)

# High-volume search efforts: counted in a track summary, listed only in the Track 2 reports.
COUNTED_ONLY_KINDS = frozenset(
    {
        "job_application",
        "job_interview",
        "employer_contact",
        "vacancy_search",
        "coaching_session",
        "network_meeting",
    }
)


def track_summary(track: TrackView, activities: Sequence[ActivityRow]) -> TrackSummary:
    mine = [a for a in activities if a.track_id == track.id]
    return TrackSummary(
        id=track.id,
        kind=track.kind,
        status=track.status,
        started_on=track.started_on,
        ended_on=track.ended_on,
        outcome=track.outcome,
        provider=track.provider,
        phase=track.phase,
        phases=track.phases,
        activity_counts=dict(Counter(a.kind for a in mine)),
        last_activity_on=mine[-1].occurred_on if mine else None,
        key_activities=[document(a) for a in mine if a.kind not in COUNTED_ONLY_KINDS],
    )


# --- Reintegration report (RIV) ---------------------------------------------------------------------

# Deadline codes whose documents belong in the RIV, in the RIV's order.
RIV_DEADLINES = (
    "problem_analysis",
    "action_plan",
    "action_plan_evaluation",
    "first_year_evaluation",
    "track_2_start",
    "track_2_progress_report",
    "current_assessment",
    "final_evaluation",
)
RECURRING = frozenset({"action_plan_evaluation", "track_2_progress_report"})
NOT_YET_DUE = frozenset({"upcoming", "due_soon"})
EMPLOYEE_VIEW_SOURCE = "UWV (reintegration report: the employee's view)"
LABOUR_EXPERT_SOURCE = "UWV Werkwijzer Poortwachter (advice, not law)"


def deadlines_of(timeline: tl.Timeline, code: str) -> list[tl.Deadline]:
    return [d for d in timeline.deadlines if d.code == code]


def missed_intervals(deadline: tl.Deadline, as_of: date, interval: int) -> int:
    """How many occurrences of a recurring deadline an overdue one stands for by as_of."""
    assert deadline.due_on is not None
    return (as_of - deadline.due_on).days // interval + 1


def completeness(data: CaseData) -> tuple[list[MissingPart], list[PendingPart]]:
    timeline, as_of = data.timeline, data.as_of
    missing: list[MissingPart] = []
    pending: list[PendingPart] = []
    has_action_plan = bool(data.by_kind("action_plan"))
    for code in RIV_DEADLINES:
        entry = catalogue.BY_CODE[code]
        deadlines = deadlines_of(timeline, code)
        overdue = [d for d in deadlines if d.status == "overdue"]
        # Without an action plan there is nothing to evaluate: the plan itself is what is missing (T3).
        if code == "action_plan_evaluation" and not has_action_plan:
            continue
        if overdue:
            first = overdue[0]
            if code in RECURRING:
                interval = (
                    timeline_interval(data) if code == "action_plan_evaluation" else PROGRESS_PERIOD_DAYS
                )
                count = sum(missed_intervals(d, as_of, interval) for d in overdue)
                detail = f"{entry.title}: overdue since {first.due_on}; about {count} missed by {as_of}."
            else:
                detail = f"{entry.title}: due on {first.due_on}; none recorded by {as_of}."
            missing.append(
                MissingPart(
                    part=code,
                    title=entry.title,
                    rule=entry.rule,
                    detail=detail,
                    due_on=first.due_on,
                    source=entry.source,
                )
            )
        elif code not in RECURRING and deadlines and all(d.status in NOT_YET_DUE for d in deadlines):
            pending.append(
                PendingPart(part=code, title=entry.title, rule=entry.rule, due_on=deadlines[0].due_on)
            )
    # The employee's view accompanies the final RIV: due with the final evaluation (T10).
    final = deadlines_of(timeline, "final_evaluation")
    view_due = final[0].due_on if final else None
    if view_due is not None and not data.by_kind("employee_view"):
        if as_of > view_due:
            missing.append(
                MissingPart(
                    part="employee_view",
                    title="The employee's view",
                    rule="A2",
                    detail=f"The RIV holds the employee's view from {view_due} (with the final evaluation); "
                    f"none recorded by {as_of}.",
                    due_on=view_due,
                    source=EMPLOYEE_VIEW_SOURCE,
                )
            )
        else:
            pending.append(
                PendingPart(part="employee_view", title="The employee's view", rule="A2", due_on=view_due)
            )
    track_2 = data.tracks_of("track_2")
    if track_2 and not data.by_kind("labour_expert_assessment"):
        missing.append(
            MissingPart(
                part="labour_expert_assessment",
                title="Labour expert assessment",
                rule="P10",
                detail=f"Track 2 started on {track_2[0].started_on} without a labour expert assessment on "
                "file; the RIV should show how the capacities were matched to work.",
                due_on=track_2[0].started_on,
                source=LABOUR_EXPERT_SOURCE,
            )
        )
    return missing, pending


def timeline_interval(data: CaseData) -> int:
    return data.case.evaluation_interval_days or catalogue.EVALUATION_INTERVAL_DAYS


def reintegration_report(data: CaseData) -> ReintegrationReport:
    missing, pending = completeness(data)
    sections = [
        GeneralSection(
            key=spec.key,
            title=spec.title,
            rule=spec.rule,
            documents=[document(a) for a in data.activities if a.kind in spec.kinds],
        )
        for spec in GENERAL_PART
    ]
    return ReintegrationReport(
        as_of=data.as_of,
        case=report_case(data),
        complete=not missing,
        completeness=missing,
        pending=pending,
        general_part=sections,
        track_1=[track_summary(t, data.activities) for t in data.tracks_of("track_1")],
        track_2=[track_summary(t, data.activities) for t in data.tracks_of("track_2")],
    )


# --- Track 2 progress and final reports ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrackData:
    case: CaseData
    track: TrackView
    activities: list[ActivityRow]  # the track's, on or before as_of


async def load_track_2(
    session: AsyncSession, tenant_id: uuid.UUID, track_id: uuid.UUID, as_of: date, horizon_days: int
) -> TrackData:
    """A Track 2 and its case as of as_of. 404 for another tenant's track, and for a Track 1 track, which
    has no progress or final report."""
    stored = await get_track(session, tenant_id, track_id)
    if stored.kind != "track_2":
        raise NotFound(
            f"Track {track_id} is a Track 1 track: progress and final reports exist for Track 2 only "
            "(Track 1 is reported in the case's reintegration report)."
        )
    if stored.started_on > as_of:
        raise NotFound(f"Track {track_id} starts on {stored.started_on}, after as_of {as_of}.")
    case = await get_case(session, tenant_id, stored.case_id)
    timeline = await case_timeline(session, case, as_of, horizon_days)
    (track,) = await _tracks(session, select(Track).where(Track.id == stored.id), as_of)
    activities = _rows(
        await session.execute(
            select(*ACTIVITY_COLUMNS)
            .where(Activity.track_id == track.id, Activity.occurred_on <= as_of)
            .order_by(Activity.occurred_on, Activity.created_at, Activity.id)
        )
    )
    case_data = CaseData(case, as_of, timeline, [], [track])
    return TrackData(case_data, track, activities)


def progress_period(as_of: date, from_on: date | None, to_on: date | None) -> tuple[date, date]:
    """The period of a progress report: default the last 28 days up to as_of (or up to `to`)."""
    end = to_on or as_of
    start = from_on or end - timedelta(days=PROGRESS_PERIOD_DAYS - 1)
    errors = []
    if end > as_of:
        errors.append(("#/query/to", f"The period ends on or before as_of ({as_of})."))
    if start > end:
        errors.append(("#/query/from", "The period starts on or before its end."))
    if errors:
        raise InvalidInput(
            "; ".join(reason for _, reason in errors),
            extra={"errors": [{"pointer": p, "reason": r, "type": "value_error"} for p, r in errors]},
        )
    return start, end


def _phase_on(track: TrackView, day: date) -> int:
    """Index of the phase the track was in on `day` (on a transition day: the new phase)."""
    index = 0
    for i, phase in enumerate(track.phases):
        if phase.entered_on <= day:
            index = i
    return index


def _text(details: dict[str, Any], name: str) -> str | None:
    value = details.get(name)
    return value if isinstance(value, str) else None


def _day(details: dict[str, Any], name: str) -> date | None:
    value = details.get(name)
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _flag(details: dict[str, Any], name: str) -> bool | None:
    value = details.get(name)
    return value if isinstance(value, bool) else None


def _number(details: dict[str, Any], name: str) -> float | None:
    value = details.get(name)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def track_2_report(data: TrackData, kind: str, from_on: date, to_on: date) -> Track2Report:
    track, as_of = data.track, data.case.as_of
    in_period = [a for a in data.activities if from_on <= a.occurred_on <= to_on]
    by_phase: list[PhaseActivities] = [
        PhaseActivities(phase=p.phase, entered_on=p.entered_on, left_on=p.left_on, activities=[])
        for p in track.phases
    ]
    for activity in in_period:
        by_phase[_phase_on(track, activity.occurred_on)].activities.append(document(activity))
    shown = [
        p
        for p in by_phase
        if p.activities or (p.entered_on <= to_on and (p.left_on is None or p.left_on >= from_on))
    ]
    applications = [
        Application(
            activity_id=a.id,
            occurred_on=a.occurred_on,
            employer=_text(a.details, "employer"),
            vacancy=_text(a.details, "vacancy"),
            result=_text(a.details, "result"),
        )
        for a in in_period
        if a.kind == "job_application"
    ]
    interviews = [
        Interview(
            activity_id=a.id,
            occurred_on=a.occurred_on,
            employer=_text(a.details, "employer"),
            vacancy=_text(a.details, "vacancy"),
            result=_text(a.details, "result"),
        )
        for a in in_period
        if a.kind == "job_interview"
    ]
    placements = [
        Placement(
            activity_id=a.id,
            kind=a.kind,
            occurred_on=a.occurred_on,
            employer=_text(a.details, "employer"),
            role=_text(a.details, "role"),
            starts_on=_day(a.details, "starts_on"),
            ends_on=_day(a.details, "ends_on"),
            hours_per_week=_number(a.details, "hours_per_week"),
            paid=_flag(a.details, "paid"),
        )
        for a in in_period
        if a.kind in ("secondment", "work_experience_placement", "job_placement")
    ]
    training = [
        Training(
            activity_id=a.id,
            occurred_on=a.occurred_on,
            course=_text(a.details, "course"),
            provider=_text(a.details, "provider"),
            starts_on=_day(a.details, "starts_on"),
            ends_on=_day(a.details, "ends_on"),
            completed=_flag(a.details, "completed"),
            certificate=_flag(a.details, "certificate"),
        )
        for a in in_period
        if a.kind == "training"
    ]
    final_reports = [a for a in data.activities if a.kind == "final_report"]
    final_report = final_reports[-1] if final_reports else None
    outcome = track.outcome or (_text(final_report.details, "outcome") if final_report else None)
    return Track2Report(
        report=kind,
        as_of=as_of,
        period=Period(from_on=from_on, to_on=to_on),
        draft=kind == "final" and track.is_open,
        case=report_case(data.case),
        track=ReportTrack(
            id=track.id,
            case_id=track.case_id,
            status=track.status,
            started_on=track.started_on,
            ended_on=track.ended_on,
            outcome=track.outcome,
            provider=track.provider,
            coach=track.coach,
            phase=track.phase,
            phases=track.phases,
        ),
        by_phase=shown,
        applications=applications,
        interviews=interviews,
        placements=placements,
        training=training,
        totals=Track2Totals(
            activities=len(in_period),
            applications=len(applications),
            applications_by_result=dict(Counter(a.result or "unknown" for a in applications)),
            interviews=len(interviews),
            placements=len(placements),
            training=len(training),
        ),
        outcome=outcome,
        final_report=document(final_report) if final_report else None,
    )


def final_period(data: TrackData) -> tuple[date, date]:
    return data.track.started_on, data.track.ended_on or data.case.as_of
