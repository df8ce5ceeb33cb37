"""The case as GET /cases/{id} shows it: the stored fields plus the clock (sick day, week, waiting-period
end), the tracks with their current phase, the next deadlines and the warnings (timeline and P8–P11)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.cases.schemas import CaseDetail
from app.cases.service import read_fields
from app.db import attributes
from app.domain import timeline as tl
from app.domain import tracks as track_rules
from app.domain.errors import NotFound
from app.timeline.service import TIMELINE_INPUT_ARRAYS, build_case_input, input_rows

NEXT_DEADLINES = 5
OPEN_STATUSES = frozenset({"overdue", "due_soon", "upcoming"})

# Everything GET /cases/{id} shows, in one statement: the case, the timeline's inputs, the tracks with
# their current phase and the activity dates the soft rules read. $1 case, $2 tenant, $3 as_of.
_CASE_COLUMNS = """
SELECT c.id, c.employee_ref, c.employee_display_name, c.first_sick_day, c.case_manager,
    c.long_term_expected_on, c.employment_ends_on, c.safety_net, c.work_accident, c.third_party_liability,
    c.status, c.closed_on, c.evaluation_interval_days, c.version, c.created_at, c.updated_at,"""
_OVERVIEW_EXTRAS = """,
    ARRAY(SELECT ROW(t.id, t.kind, t.status, t.started_on, t.ended_on, t.outcome,
                     (SELECT p.phase FROM track_phases AS p WHERE p.track_id = t.id
                      ORDER BY p.position DESC LIMIT 1))
          FROM tracks AS t WHERE t.case_id = c.id ORDER BY t.started_on, t.id) AS tracks,
    (SELECT min(a.occurred_on) FROM activities AS a
     WHERE a.case_id = c.id AND a.kind = 'action_plan') AS first_action_plan_on,
    (SELECT min(a.occurred_on) FROM activities AS a
     WHERE a.case_id = c.id AND a.kind = 'labour_expert_assessment') AS first_labour_expert_assessment_on,
    (SELECT max(a.occurred_on) FROM tracks AS t JOIN activities AS a ON a.track_id = t.id
     WHERE t.case_id = c.id AND t.kind = 'track_1' AND a.occurred_on <= $3) AS last_track_1_activity_on
FROM cases AS c WHERE c.id = $1 AND c.tenant_id = $2
"""
CASE_OVERVIEW = _CASE_COLUMNS + TIMELINE_INPUT_ARRAYS + _OVERVIEW_EXTRAS
CASE_OVERVIEW_AUDITED = audit.with_success_entry(
    CASE_OVERVIEW, "SELECT 1 FROM cases WHERE id = $1 AND tenant_id = $2", 4
)


class TrackRow(NamedTuple):
    id: uuid.UUID
    kind: str
    status: str
    started_on: date
    ended_on: date | None
    outcome: str | None
    phase: str


async def case_detail(
    session: AsyncSession, tenant_id: uuid.UUID, case_id: uuid.UUID, as_of: date, horizon_days: int
) -> CaseDetail:
    row = await audit.fetchrow_with_success_entry(
        session, CASE_OVERVIEW, CASE_OVERVIEW_AUDITED, case_id, tenant_id, as_of
    )
    if row is None:
        raise NotFound(f"No case {case_id}.")
    case = attributes(row)
    timeline = tl.compute_timeline(build_case_input(case, *input_rows(row), as_of, horizon_days))
    tracks = [TrackRow(*t) for t in row["tracks"]]
    track_2 = [t for t in tracks if t.kind == "track_2" and t.started_on <= as_of]
    latest_track_2 = track_2[-1] if track_2 else None
    track_1_closed = (
        bool(tracks)
        and all(t.status == "closed" for t in tracks if t.kind == "track_1")
        and any(t.kind == "track_1" for t in tracks)
    )
    track_warnings = track_rules.track_warnings(
        as_of=as_of,
        track_2_started_on=latest_track_2.started_on if latest_track_2 else None,
        track_2_open=latest_track_2 is not None and latest_track_2.status == "open",
        track_2_due_on=_due_on(timeline, "track_2_start"),
        action_plan_on=row["first_action_plan_on"],
        labour_expert_assessment_on=row["first_labour_expert_assessment_on"],
        track_1_closed=track_1_closed,
        last_track_1_activity_on=row["last_track_1_activity_on"],
    )
    upcoming = [d for d in timeline.deadlines if d.status in OPEN_STATUSES and d.due_on is not None]
    upcoming.sort(key=lambda d: d.due_on or as_of)
    # One validation of the whole answer: pydantic reads the tracks, deadlines and warnings from their
    # attributes itself, cheaper than building each part's model first and the answer from those.
    return CaseDetail.model_validate(
        {
            **read_fields(case),
            "as_of": as_of,
            "sick_day": timeline.sick_day,
            "week": timeline.week,
            "waiting_period_ends_on": timeline.waiting_period.ends_on,
            "tracks": tracks,
            "next_deadlines": upcoming[:NEXT_DEADLINES],
            "warnings": [*timeline.warnings, *track_warnings],
        },
        from_attributes=True,
    )


def _due_on(timeline: tl.Timeline, code: str) -> date | None:
    return next((d.due_on for d in timeline.deadlines if d.code == code), None)
