"""The timeline of a stored case or a preview, and the stored deadlines behind the worklist.

`refresh_case_deadlines` is called in the same transaction as every change to a timeline input (a
sickness period, an activity, a track, a waiver, the case itself), so the stored rows never lag."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any, NamedTuple, Protocol

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.db import attributes, driver_connection
from app.domain import catalogue
from app.domain import timeline as tl
from app.domain.clock import SicknessPeriod as DomainPeriod
from app.domain.errors import NotFound
from app.domain.tracks import is_satisfactory_result
from app.events.catalogue import EventType
from app.events.service import emit_many, event_row
from app.ids import new_id
from app.models._types import sql_in
from app.models.cases import Case, CaseStatus
from app.models.deadlines import StoredDeadline
from app.timeline.schemas import TimelinePreviewRequest, TimelineRead

# Deadline statuses that do not depend on the day you look (stored as such; others are 'open').
SETTLED_STATUSES = frozenset({"met", "met_late", "waived", "suspended", "not_applicable"})

CASE_STATE_TO_STATUS = {
    "open": CaseStatus.open.value,
    "recovered_suspended": CaseStatus.recovered.value,
    "closed": CaseStatus.closed.value,
}


def to_read(timeline: tl.Timeline) -> TimelineRead:
    return TimelineRead.model_validate(timeline, from_attributes=True)


def _period(started_on: date, ended_on: date | None, leave_days: int, same_cause: bool) -> DomainPeriod:
    return DomainPeriod(
        start=started_on,
        end=ended_on,
        pregnancy_leave_in_gap=leave_days > 0,
        pregnancy_leave_days=leave_days,
        same_cause_not_pregnancy=same_cause,
    )


def preview_input(body: TimelinePreviewRequest, as_of: date, horizon_days: int) -> tl.TimelineInput:
    voluntary = tuple(
        tl.VoluntaryExtension(weeks=e.weeks, decided_on=e.decided_on)
        for e in body.extensions
        if e.kind == "voluntary_extension"
    )
    sanctions = tuple(
        tl.WageSanction(weeks=e.weeks, imposed_on=e.decided_on)
        for e in body.extensions
        if e.kind == "wage_sanction"
    )
    return tl.TimelineInput(
        first_sick_day=body.first_sick_day,
        as_of=as_of,
        periods=tuple(
            _period(p.started_on, p.ended_on, p.pregnancy_leave_days, p.same_cause_not_pregnancy)
            for p in body.sickness_periods
        ),
        events=tuple(tl.Event(kind=e.kind.value, occurred_on=e.occurred_on, id=e.id) for e in body.events),
        long_term_flagged_on=body.long_term_expected_on,
        tracks_2=tuple(
            tl.Track2Record(
                started_on=t.started_on, ended_on=t.ended_on, progress_interval_days=t.progress_interval_days
            )
            for t in body.track_2
        ),
        track_2_waivers=tuple(
            tl.Track2Waiver(
                reason=w.reason,
                recorded_on=w.recorded_on,
                expected_return_on=w.expected_return_on,
                withdrawn_on=w.withdrawn_on,
            )
            for w in body.track_2_waivers
        ),
        satisfactory_result_on=body.satisfactory_result_on,
        voluntary_extensions=voluntary,
        wage_sanctions=sanctions,
        waived=dict(body.waived),
        closure=tl.CaseClosure(body.closure.closed_on, body.closure.reason) if body.closure else None,
        evaluation_interval_days=body.evaluation_interval_days,
        due_soon_horizon_days=horizon_days,
    )


def _int_detail(details: dict[str, Any], name: str) -> int | None:
    value = details.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class CaseFields(Protocol):
    """What the timeline reads of the case itself: an ORM Case or a row with these attributes."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def first_sick_day(self) -> date: ...
    @property
    def long_term_expected_on(self) -> date | None: ...
    @property
    def employment_ends_on(self) -> date | None: ...
    @property
    def evaluation_interval_days(self) -> int | None: ...


class PeriodRow(NamedTuple):
    started_on: date
    ended_on: date | None
    pregnancy_leave_days: int
    same_cause_not_pregnancy: bool


class InputActivityRow(NamedTuple):
    id: uuid.UUID
    kind: str
    occurred_on: date
    track_id: uuid.UUID | None
    details: Any


class Track2Row(NamedTuple):
    id: uuid.UUID
    started_on: date
    ended_on: date | None
    progress_interval_days: int | None


class WaiverRow(NamedTuple):
    id: uuid.UUID
    reason: str
    recorded_on: date
    expected_return_on: date | None
    withdrawn_on: date | None


# Activity kinds whose details the timeline reads (`build_case_input`); the others' details are not
# sent, since decoding them cost a twentieth of a case read.
DETAILED_INPUT_KINDS = (
    catalogue.VOLUNTARY_EXTENSION_KIND,
    catalogue.WAGE_SANCTION_KIND,
    catalogue.DEADLINE_WAIVER_KIND,
    catalogue.WORK_RESUMPTION_KIND,
)
# The timeline's inputs besides the case's own fields, one array of records per kind, each correlated
# to `c.id` (a case row or an id). Read on every GET of a case or timeline and every refresh, so they
# are plain SQL on the driver connection, one statement for any number of cases. The kinds are literals,
# not a parameter: the activities' kind index holds only kinds read by kind, and the planner uses a
# partial index only where the statement's own text implies its condition.
_INPUT_KINDS = sql_in("a.kind", catalogue.TIMELINE_INPUT_KINDS)
_DETAILED_KINDS = sql_in("a.kind", DETAILED_INPUT_KINDS)
TIMELINE_INPUT_ARRAYS = f"""
    ARRAY(SELECT ROW(p.started_on, p.ended_on, p.pregnancy_leave_days, p.same_cause_not_pregnancy)
          FROM sickness_periods AS p WHERE p.case_id = c.id ORDER BY p.started_on) AS periods,
    ARRAY(SELECT ROW(a.id, a.kind, a.occurred_on, a.track_id,
                     CASE WHEN {_DETAILED_KINDS} THEN a.details END)
          FROM activities AS a
          WHERE a.case_id = c.id AND a.counts_for_deadline AND {_INPUT_KINDS}
          ORDER BY a.occurred_on, a.created_at) AS activities,
    ARRAY(SELECT ROW(t.id, t.started_on, t.ended_on, t.progress_interval_days)
          FROM tracks AS t WHERE t.case_id = c.id AND t.kind = 'track_2' ORDER BY t.started_on, t.id)
          AS tracks_2,
    ARRAY(SELECT ROW(w.id, w.reason, w.recorded_on, w.expected_return_on, w.withdrawn_on)
          FROM track_2_waivers AS w WHERE w.case_id = c.id ORDER BY w.recorded_on, w.id) AS waivers
"""  # noqa: S608 (the kinds are the constants above)
CASES_INPUTS = "SELECT c.id," + TIMELINE_INPUT_ARRAYS + "FROM unnest($1::uuid[]) AS c(id)"
# One stored case with its inputs: $1 case, $2 tenant.
CASE_WITH_INPUTS = (
    "SELECT c.id, c.first_sick_day, c.long_term_expected_on, c.employment_ends_on,"
    " c.evaluation_interval_days,"
    + TIMELINE_INPUT_ARRAYS
    + "FROM cases AS c WHERE c.id = $1 AND c.tenant_id = $2"
)
CASE_WITH_INPUTS_AUDITED = audit.with_success_entry(
    CASE_WITH_INPUTS, "SELECT 1 FROM cases WHERE id = $1 AND tenant_id = $2", 3
)


def input_rows(
    row: Mapping[str, Any],
) -> tuple[list[PeriodRow], list[InputActivityRow], list[Track2Row], list[WaiverRow]]:
    """The four arrays of a row selected with TIMELINE_INPUT_ARRAYS, as named rows."""
    return (
        [PeriodRow(*p) for p in row["periods"]],
        [InputActivityRow(*a) for a in row["activities"]],
        [Track2Row(*t) for t in row["tracks_2"]],
        [WaiverRow(*w) for w in row["waivers"]],
    )


async def case_input(
    session: AsyncSession, case: CaseFields, as_of: date, horizon_days: int
) -> tl.TimelineInput:
    """Everything the timeline reads about a stored case."""
    return (await cases_inputs(session, [case], as_of, horizon_days))[case.id]


async def cases_inputs(
    session: AsyncSession, cases: Sequence[CaseFields], as_of: date, horizon_days: int
) -> dict[uuid.UUID, tl.TimelineInput]:
    """The timeline inputs of many cases in one statement. The case's own fields come from `cases`
    (an ORM case may hold changes not yet flushed)."""
    connection = await driver_connection(session, begin=False)
    rows = await connection.fetch(CASES_INPUTS, [case.id for case in cases])
    by_case = {row["id"]: input_rows(row) for row in rows}
    return {case.id: build_case_input(case, *by_case[case.id], as_of, horizon_days) for case in cases}


def build_case_input(
    case: CaseFields,
    periods: Iterable[Any],
    activities: Iterable[Any],
    tracks: Iterable[Any],
    waivers: Iterable[Any],
    as_of: date,
    horizon_days: int,
) -> tl.TimelineInput:
    events: list[tl.Event] = []
    voluntary: list[tl.VoluntaryExtension] = []
    sanctions: list[tl.WageSanction] = []
    waived: dict[str, str] = {}
    satisfactory_on: date | None = None
    for activity in activities:
        details = activity.details or {}
        if activity.kind == catalogue.VOLUNTARY_EXTENSION_KIND:
            weeks = _int_detail(details, "weeks")
            if weeks:
                voluntary.append(tl.VoluntaryExtension(weeks, activity.occurred_on, str(activity.id)))
        elif activity.kind == catalogue.WAGE_SANCTION_KIND:
            weeks = _int_detail(details, "weeks")
            if weeks:
                sanctions.append(tl.WageSanction(weeks, activity.occurred_on, str(activity.id)))
        elif activity.kind == catalogue.DEADLINE_WAIVER_KIND:
            code, reason = details.get("deadline"), details.get("reason")
            if isinstance(code, str) and isinstance(reason, str):
                waived[code] = reason
        elif activity.kind == catalogue.WORK_RESUMPTION_KIND:
            percentage = details.get("wage_value_percentage")
            if (
                satisfactory_on is None
                and details.get("structural") is True
                and isinstance(percentage, int | float)
                and is_satisfactory_result(percentage)
            ):
                satisfactory_on = activity.occurred_on
        else:
            events.append(tl.Event(activity.kind, activity.occurred_on, str(activity.id)))
    # Recovery closes the case by itself (28 healthy days, T0); the end of employment closes it on that day.
    closure = tl.CaseClosure(case.employment_ends_on, "employment_ended") if case.employment_ends_on else None
    return tl.TimelineInput(
        first_sick_day=case.first_sick_day,
        as_of=as_of,
        periods=tuple(
            _period(p.started_on, p.ended_on, p.pregnancy_leave_days, p.same_cause_not_pregnancy)
            for p in periods
        ),
        events=tuple(events),
        long_term_flagged_on=case.long_term_expected_on,
        tracks_2=tuple(
            tl.Track2Record(
                started_on=t.started_on,
                ended_on=t.ended_on,
                progress_interval_days=t.progress_interval_days or catalogue.TRACK_2_PROGRESS_INTERVAL_DAYS,
                id=str(t.id),
            )
            for t in tracks
        ),
        track_2_waivers=tuple(
            tl.Track2Waiver(
                reason=w.reason,
                recorded_on=w.recorded_on,
                expected_return_on=w.expected_return_on,
                withdrawn_on=w.withdrawn_on,
                id=str(w.id),
            )
            for w in waivers
        ),
        satisfactory_result_on=satisfactory_on,
        voluntary_extensions=tuple(voluntary),
        wage_sanctions=tuple(sanctions),
        waived=waived,
        closure=closure,
        evaluation_interval_days=case.evaluation_interval_days or catalogue.EVALUATION_INTERVAL_DAYS,
        due_soon_horizon_days=horizon_days,
    )


async def case_timeline(
    session: AsyncSession, case: CaseFields, as_of: date, horizon_days: int
) -> tl.Timeline:
    return tl.compute_timeline(await case_input(session, case, as_of, horizon_days))


async def stored_case_timeline(
    session: AsyncSession, tenant_id: uuid.UUID, case_id: uuid.UUID, as_of: date, horizon_days: int
) -> tl.Timeline:
    """The timeline of a stored case, read with its inputs in one statement (GET .../timeline)."""
    row = await audit.fetchrow_with_success_entry(
        session, CASE_WITH_INPUTS, CASE_WITH_INPUTS_AUDITED, case_id, tenant_id
    )
    if row is None:
        raise NotFound(f"No case {case_id}.")
    case = attributes(row)
    return tl.compute_timeline(build_case_input(case, *input_rows(row), as_of, horizon_days))


async def refresh_case_deadlines(
    session: AsyncSession, case: Case, today: date, horizon_days: int
) -> tl.Timeline:
    """Recompute the case's deadlines as of today and replace its stored rows; keep the case's status
    (open / recovered / closed) in step with the clock."""
    return (await refresh_deadlines(session, [case], today, horizon_days))[case.id]


async def refresh_deadlines(
    session: AsyncSession, cases: Sequence[Case], today: date, horizon_days: int
) -> dict[uuid.UUID, tl.Timeline]:
    """The same for many cases at once: one load, one DELETE and one INSERT for all of them."""
    if not cases:
        return {}
    inputs = await cases_inputs(session, cases, today, horizon_days)
    timelines = {case_id: tl.compute_timeline(timeline_input) for case_id, timeline_input in inputs.items()}
    met_before = await _met_deadlines(session, list(timelines))
    await session.execute(delete(StoredDeadline).where(StoredDeadline.case_id.in_(list(timelines))))
    rows = [
        deadline_row(case.tenant_id, case.id, deadline)
        for case in cases
        for deadline in timelines[case.id].deadlines
    ]
    if rows:
        await session.execute(insert(StoredDeadline), rows)
    events = [
        event_row(case.tenant_id, EventType.deadline_met, met_payload(case.id, deadline))
        for case in cases
        for deadline in timelines[case.id].deadlines
        if deadline.status in MET_STATUSES
        and (case.id, deadline.code, deadline.occurrence, deadline.track_id) not in met_before
    ]
    for case in cases:
        timeline = timelines[case.id]
        status = CASE_STATE_TO_STATUS[timeline.case_state]
        if case.status != status or case.closed_on != timeline.closed_on:
            if status == CaseStatus.closed.value and case.status != status:
                closed = {
                    "case_id": case.id,
                    "closed_on": timeline.closed_on,
                    "reason": timeline.closure_reason,
                }
                events.append(event_row(case.tenant_id, EventType.case_closed, closed))
            case.status = status
            case.closed_on = timeline.closed_on
            case.closure_reason = timeline.closure_reason
    await emit_many(session, events)
    return timelines


MET_STATUSES = frozenset({"met", "met_late"})
DeadlineIdentity = tuple[uuid.UUID, str, int | None, str | None]


async def _met_deadlines(session: AsyncSession, case_ids: list[uuid.UUID]) -> set[DeadlineIdentity]:
    """The stored deadlines already met, before a refresh replaces them: deadline.met is emitted only for
    the ones that become met now."""
    rows = await session.execute(
        select(
            StoredDeadline.case_id, StoredDeadline.code, StoredDeadline.occurrence, StoredDeadline.track_id
        ).where(StoredDeadline.case_id.in_(case_ids), StoredDeadline.state.in_(MET_STATUSES))
    )
    return {
        (case_id, code, occurrence, str(track_id) if track_id else None)
        for case_id, code, occurrence, track_id in rows
    }


def met_payload(case_id: uuid.UUID, deadline: tl.Deadline) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "code": deadline.code,
        "rule": deadline.rule,
        "occurrence": deadline.occurrence,
        "track_id": deadline.track_id,
        "due_on": deadline.due_on,
        "status": deadline.status,
        "satisfied_on": deadline.satisfied_on,
        "satisfied_by": deadline.satisfied_by,
    }


def deadline_row(tenant_id: uuid.UUID, case_id: uuid.UUID, deadline: tl.Deadline) -> dict[str, Any]:
    return {
        "id": new_id(),
        "tenant_id": tenant_id,
        "case_id": case_id,
        "code": deadline.code,
        "rule": deadline.rule,
        "title": deadline.title,
        "occurrence": deadline.occurrence,
        "track_id": uuid.UUID(deadline.track_id) if deadline.track_id else None,
        "due_on": deadline.due_on,
        "window_starts_on": deadline.window_starts_on,
        "state": deadline.status if deadline.status in SETTLED_STATUSES else "open",
        "satisfied_by": deadline.satisfied_by,
        "satisfied_on": deadline.satisfied_on,
        "source": deadline.source,
    }
