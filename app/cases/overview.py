"""The case as GET /cases/{id} shows it: the stored fields plus the clock (sick day, week, waiting-period
end), the tracks with their current phase, the next deadlines and the warnings (timeline and P8–P11)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.cases.schemas import CaseDetail, CaseTrackSummary, CaseWarning
from app.cases.service import to_read
from app.domain import timeline as tl
from app.domain import tracks as track_rules
from app.models.activities import Activity
from app.models.cases import Case
from app.models.tracks import Track, TrackPhase
from app.timeline.schemas import DeadlineRead
from app.timeline.service import case_timeline

NEXT_DEADLINES = 5
OPEN_STATUSES = frozenset({"overdue", "due_soon", "upcoming"})


async def case_detail(session: AsyncSession, case: Case, as_of: date, horizon_days: int) -> CaseDetail:
    timeline = await case_timeline(session, case, as_of, horizon_days)
    current_phase = (
        select(TrackPhase.phase)
        .where(TrackPhase.track_id == Track.id)
        .order_by(TrackPhase.position.desc())
        .limit(1)
        .scalar_subquery()
    )
    tracks = (
        await session.execute(
            select(
                Track.id,
                Track.kind,
                Track.status,
                Track.started_on,
                Track.ended_on,
                Track.outcome,
                current_phase.label("phase"),
            )
            .where(Track.case_id == case.id)
            .order_by(Track.started_on, Track.id)
        )
    ).all()
    first_on = {
        kind: on
        for kind, on in (
            await session.execute(
                select(Activity.kind, func.min(Activity.occurred_on))
                .where(
                    Activity.case_id == case.id,
                    Activity.kind.in_(("action_plan", "labour_expert_assessment")),
                )
                .group_by(Activity.kind)
            )
        ).all()
    }
    last_track_1_activity = (
        await session.execute(
            select(func.max(Activity.occurred_on))
            .join(Track, Track.id == Activity.track_id)
            .where(Activity.case_id == case.id, Track.kind == "track_1", Activity.occurred_on <= as_of)
        )
    ).scalar_one_or_none()
    track_2 = [t for t in tracks if t.kind == "track_2" and t.started_on <= as_of]
    latest_track_2 = track_2[-1] if track_2 else None
    track_1_closed = (
        bool(tracks)
        and all(t.status == "closed" for t in tracks if t.kind == "track_1")
        and any(t.kind == "track_1" for t in tracks)
    )
    warnings = [CaseWarning(code=w.code, rule=w.rule, detail=w.detail) for w in timeline.warnings]
    for warning in track_rules.track_warnings(
        as_of=as_of,
        track_2_started_on=latest_track_2.started_on if latest_track_2 else None,
        track_2_open=latest_track_2 is not None and latest_track_2.status == "open",
        track_2_due_on=_due_on(timeline, "track_2_start"),
        action_plan_on=first_on.get("action_plan"),
        labour_expert_assessment_on=first_on.get("labour_expert_assessment"),
        track_1_closed=track_1_closed,
        last_track_1_activity_on=last_track_1_activity,
    ):
        warnings.append(CaseWarning(code=warning.code, rule=warning.rule, detail=warning.detail))
    upcoming = [d for d in timeline.deadlines if d.status in OPEN_STATUSES and d.due_on is not None]
    upcoming.sort(key=lambda d: d.due_on or as_of)
    base = to_read(case)
    return CaseDetail(
        **base.model_dump(),
        as_of=as_of,
        sick_day=timeline.sick_day,
        week=timeline.week,
        waiting_period_ends_on=timeline.waiting_period.ends_on,
        tracks=[
            CaseTrackSummary(
                id=t.id,
                kind=t.kind,
                status=t.status,
                phase=t.phase,
                started_on=t.started_on,
                ended_on=t.ended_on,
                outcome=t.outcome,
            )
            for t in tracks
        ],
        next_deadlines=[
            DeadlineRead.model_validate(d, from_attributes=True) for d in upcoming[:NEXT_DEADLINES]
        ],
        warnings=warnings,
    )


def _due_on(timeline: tl.Timeline, code: str) -> date | None:
    return next((d.due_on for d in timeline.deadlines if d.code == code), None)
