"""Tracks: start, read, phase transitions, closure; the Track 2 waiver.

Every write that checks a rule first locks what the rule reads: the case row (`FOR UPDATE`), and for
track writes the track row too, always in that order, so two racing requests cannot both pass a rule
that only one may pass. Unique indexes (one open track per kind, one row per phase) back this up."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.cases.service import get_case
from app.domain import phases as phase_rules
from app.domain import timeline as tl
from app.domain import tracks as track_rules
from app.domain.activity_kinds import ActivityKind, Track2WaiverReason, TrackKind, TrackOutcome, TrackStatus
from app.domain.errors import NotFound, RuleViolation
from app.events.catalogue import EventType
from app.events.service import emit
from app.ids import new_id
from app.models.activities import Activity
from app.models.cases import Case
from app.models.tracks import Track, Track2Waiver, TrackPhase
from app.timeline.service import case_timeline, refresh_case_deadlines
from app.tracks.schemas import (
    NextPhaseRead,
    PhaseRead,
    PhaseTransitionCreate,
    TrackClosure,
    TrackCreate,
    TrackRead,
    WaiverPut,
    WaiverRead,
)


async def get_track(
    session: AsyncSession, tenant_id: uuid.UUID, track_id: uuid.UUID, *, for_update: bool = False
) -> Track:
    query = select(Track).where(Track.id == track_id, Track.tenant_id == tenant_id)
    if for_update:
        query = query.with_for_update()
    track = (await session.execute(query)).scalar_one_or_none()
    if track is None:
        raise NotFound(f"No track {track_id}.")
    return track


async def live_waiver(session: AsyncSession, case_id: uuid.UUID, today: date) -> Track2Waiver | None:
    """The waiver in force: not withdrawn and not lapsed (P7)."""
    waiver = (
        await session.execute(
            select(Track2Waiver).where(Track2Waiver.case_id == case_id, Track2Waiver.withdrawn_on.is_(None))
        )
    ).scalar_one_or_none()
    if waiver is None:
        return None
    lapses_on = track_rules.waiver_lapses_on(Track2WaiverReason(waiver.reason), waiver.expected_return_on)
    if lapses_on is not None and lapses_on <= today:
        return None
    return waiver


async def case_facts(
    session: AsyncSession, case: Case, today: date, horizon_days: int
) -> track_rules.CaseFacts:
    timeline = await case_timeline(session, case, today, horizon_days)
    open_kinds = (
        await session.execute(select(Track.kind).where(Track.case_id == case.id, Track.status == "open"))
    ).scalars()
    return track_rules.CaseFacts(
        first_sick_day=case.first_sick_day,
        status=track_rules.CaseStatus(case.status),
        waiting_period_running=today <= timeline.waiting_period.ends_on,
        open_track_kinds=frozenset(TrackKind(kind) for kind in open_kinds),
        track_2_waiver_present=await live_waiver(session, case.id, today) is not None,
        closed_on=case.closed_on,
    )


async def _phases(session: AsyncSession, track_id: uuid.UUID) -> Sequence[TrackPhase]:
    return (
        (
            await session.execute(
                select(TrackPhase).where(TrackPhase.track_id == track_id).order_by(TrackPhase.position)
            )
        )
        .scalars()
        .all()
    )


async def track_facts(
    session: AsyncSession, track: Track, phases: Sequence[TrackPhase] | None = None
) -> phase_rules.TrackFacts:
    phases = phases if phases is not None else await _phases(session, track.id)
    current = phases[-1]
    rows = (
        await session.execute(
            select(Activity.kind, Activity.occurred_on, Activity.details["conclusion"].astext).where(
                Activity.track_id == track.id
            )
        )
    ).all()
    return phase_rules.TrackFacts(
        kind=TrackKind(track.kind),
        status=TrackStatus(track.status),
        started_on=track.started_on,
        current_phase=current.phase,
        current_phase_entered_on=current.entered_on,
        activities=frozenset(
            phase_rules.RecordedActivity(ActivityKind(kind), occurred_on, conclusion)
            for kind, occurred_on, conclusion in rows
        ),
        ended_on=track.ended_on,
    )


async def read_track(session: AsyncSession, track: Track) -> TrackRead:
    phases = await _phases(session, track.id)
    next_phase = None
    if track.status == TrackStatus.OPEN.value:
        facts = await track_facts(session, track, phases)
        following, missing = phase_rules.next_phase(facts)
        if following is not None:
            next_phase = NextPhaseRead(phase=following, missing=missing)
    return to_read(track, phases, next_phase)


def to_read(track: Track, phases: Sequence[Any], next_phase: NextPhaseRead | None) -> TrackRead:
    return TrackRead(
        id=track.id,
        case_id=track.case_id,
        kind=track.kind,
        status=track.status,
        started_on=track.started_on,
        ended_on=track.ended_on,
        outcome=track.outcome,
        closing_note=track.closing_note,
        provider=track.provider,
        coach=track.coach,
        progress_interval_days=track.progress_interval_days,
        phase=phases[-1].phase,
        phases=[PhaseRead.model_validate(p, from_attributes=True) for p in phases],
        next_phase=next_phase,
        version=track.version,
        created_at=track.created_at,
        updated_at=track.updated_at,
    )


async def start_track(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    case_id: uuid.UUID,
    body: TrackCreate,
    today: date,
    horizon_days: int,
) -> Track:
    case = await get_case(session, tenant_id, case_id, for_update=True)
    facts = await case_facts(session, case, today, horizon_days)
    kind = TrackKind(body.kind)
    track_rules.check_track_start(facts, kind, body.started_on, today)
    track = Track(
        id=new_id(),
        tenant_id=tenant_id,
        case_id=case.id,
        kind=kind.value,
        started_on=body.started_on,
        provider=body.provider,
        coach=body.coach,
        progress_interval_days=body.progress_interval_days,
    )
    session.add(track)
    session.add(
        TrackPhase(
            tenant_id=tenant_id,
            track_id=track.id,
            phase=phase_rules.initial_phase(kind),
            position=0,
            entered_on=body.started_on,
        )
    )
    try:
        await session.flush()
    except IntegrityError as exc:  # the unique index behind P1, should a writer bypass the lock
        raise RuleViolation(f"the case already has an open {kind}", rule="P1") from exc
    started = {
        "case_id": case.id,
        "track_id": track.id,
        "kind": kind.value,
        "started_on": body.started_on,
        "phase": phase_rules.initial_phase(kind),
    }
    await emit(session, tenant_id, EventType.track_started, started)
    if kind is TrackKind.TRACK_2:
        await refresh_case_deadlines(session, case, today, horizon_days)
    await session.refresh(track)
    return track


async def transition(
    session: AsyncSession, tenant_id: uuid.UUID, track_id: uuid.UUID, body: PhaseTransitionCreate, today: date
) -> Track:
    track = await get_track(session, tenant_id, track_id, for_update=True)
    phases = await _phases(session, track.id)
    facts = await track_facts(session, track, phases)
    phase_rules.check_transition(facts, body.to_phase, body.on, today)
    phases[-1].left_on = body.on
    session.add(
        TrackPhase(
            tenant_id=tenant_id,
            track_id=track.id,
            phase=body.to_phase,
            position=phases[-1].position + 1,
            entered_on=body.on,
            note=body.note,
        )
    )
    track.updated_at = func.now()  # an UPDATE of the track row bumps its version: the ETag changes
    try:
        await session.flush()
    except IntegrityError as exc:
        raise RuleViolation(f"the track has already entered {body.to_phase}", rule="P3") from exc
    moved = {
        "case_id": track.case_id,
        "track_id": track.id,
        "kind": track.kind,
        "from_phase": phases[-1].phase,
        "phase": body.to_phase,
        "entered_on": body.on,
    }
    await emit(session, tenant_id, EventType.track_phase_changed, moved)
    await session.refresh(track)
    return track


async def close_track(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    track_id: uuid.UUID,
    body: TrackClosure,
    today: date,
    horizon_days: int,
    *,
    allow_small_employer_track_1_closure: bool = False,
) -> Track:
    # Lock order: case, then track (as every other track write).
    track_case_id = (
        await session.execute(select(Track.case_id).where(Track.id == track_id, Track.tenant_id == tenant_id))
    ).scalar_one_or_none()
    if track_case_id is None:
        raise NotFound(f"No track {track_id}.")
    case = await get_case(session, tenant_id, track_case_id, for_update=True)
    track = await get_track(session, tenant_id, track_id, for_update=True)
    facts = await case_facts(session, case, today, horizon_days)
    phases = await _phases(session, track.id)
    track_rules.check_track_closure(
        facts,
        await track_facts(session, track, phases),
        body.ended_on,
        TrackOutcome(body.outcome),
        today,
        allow_small_employer_track_1_closure=allow_small_employer_track_1_closure,
    )
    track.status = TrackStatus.CLOSED.value
    track.ended_on = body.ended_on
    track.outcome = body.outcome
    track.closing_note = body.note
    phases[-1].left_on = body.ended_on
    await session.flush()
    closed = {
        "case_id": case.id,
        "track_id": track.id,
        "kind": track.kind,
        "ended_on": body.ended_on,
        "outcome": body.outcome,
    }
    await emit(session, tenant_id, EventType.track_closed, closed)
    await refresh_case_deadlines(session, case, today, horizon_days)
    await session.refresh(track)
    return track


async def list_tracks(session: AsyncSession, tenant_id: uuid.UUID, case_id: uuid.UUID) -> list[TrackRead]:
    await get_case(session, tenant_id, case_id)
    tracks = (
        (
            await session.execute(
                select(Track)
                .where(Track.case_id == case_id, Track.tenant_id == tenant_id)
                .order_by(Track.started_on, Track.id)
            )
        )
        .scalars()
        .all()
    )
    return [await read_track(session, track) for track in tracks]


def waiver_to_read(waiver: Track2Waiver) -> WaiverRead:
    return WaiverRead(
        id=waiver.id,
        case_id=waiver.case_id,
        reason=waiver.reason,
        recorded_on=waiver.recorded_on,
        expected_return_on=waiver.expected_return_on,
        employer_consent=waiver.employer_consent,
        employee_consent=waiver.employee_consent,
        note=waiver.note,
        lapses_on=track_rules.waiver_lapses_on(Track2WaiverReason(waiver.reason), waiver.expected_return_on),
        created_at=waiver.created_at,
    )


async def put_waiver(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    case_id: uuid.UUID,
    body: WaiverPut,
    today: date,
    horizon_days: int,
) -> tuple[Track2Waiver, bool]:
    """Record the case's Track 2 waiver, replacing one in force. Returns (waiver, replaced)."""
    case = await get_case(session, tenant_id, case_id, for_update=True)
    facts = await case_facts(session, case, today, horizon_days)
    track_rules.check_waiver(
        facts,
        Track2WaiverReason(body.reason),
        body.recorded_on,
        today,
        expected_return_on=body.expected_return_on,
        employer_consents=body.employer_consent,
        employee_consents=body.employee_consent,
    )
    current = (
        await session.execute(
            select(Track2Waiver).where(Track2Waiver.case_id == case.id, Track2Waiver.withdrawn_on.is_(None))
        )
    ).scalar_one_or_none()
    if current is not None:
        current.withdrawn_on = max(body.recorded_on, current.recorded_on)
        await session.flush()
    waiver = Track2Waiver(
        id=new_id(),
        tenant_id=tenant_id,
        case_id=case.id,
        reason=body.reason,
        recorded_on=body.recorded_on,
        expected_return_on=body.expected_return_on,
        employer_consent=body.employer_consent,
        employee_consent=body.employee_consent,
        note=body.note,
    )
    session.add(waiver)
    await session.flush()
    await refresh_case_deadlines(session, case, today, horizon_days)
    await session.refresh(waiver)
    return waiver, current is not None


async def get_waiver(session: AsyncSession, tenant_id: uuid.UUID, case_id: uuid.UUID) -> Track2Waiver:
    await get_case(session, tenant_id, case_id)
    waiver = (
        await session.execute(
            select(Track2Waiver).where(Track2Waiver.case_id == case_id, Track2Waiver.withdrawn_on.is_(None))
        )
    ).scalar_one_or_none()
    if waiver is None:
        raise NotFound("The case has no Track 2 waiver.")
    return waiver


async def withdraw_waiver(
    session: AsyncSession, tenant_id: uuid.UUID, case_id: uuid.UUID, today: date, horizon_days: int
) -> None:
    case = await get_case(session, tenant_id, case_id, for_update=True)
    waiver = await get_waiver(session, tenant_id, case_id)
    waiver.withdrawn_on = max(today, waiver.recorded_on)
    await session.flush()
    await refresh_case_deadlines(session, case, today, horizon_days)


def timeline_track_2_due(timeline: tl.Timeline) -> date | None:
    return next((d.due_on for d in timeline.deadlines if d.code == "track_2_start"), None)
