"""Data-subject rights: export everything held about one employee, and erase (pseudonymise) it while
keeping what statistics need (kinds, dates, phases, outcomes, deadlines). Retention uses the same
erasure for cases closed longer ago than the retention period."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import String, cast, delete, inspect, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.errors import NotFound
from app.employees.schemas import EmployeeExport, ErasureResult
from app.models.activities import Activity
from app.models.cases import Case, SicknessPeriod
from app.models.deadlines import StoredDeadline
from app.models.idempotency import IdempotencyRecord
from app.models.medical import ActivityMedicalPart
from app.models.tracks import Track, Track2Waiver, TrackPhase

PSEUDONYM_PREFIX = "erased-"


def _row(obj: Any, *, without: tuple[str, ...] = ("tenant_id",)) -> dict[str, Any]:
    return {
        column.key: getattr(obj, column.key)
        for column in inspect(type(obj)).columns
        if column.key not in without
    }


async def _case_ids(session: AsyncSession, tenant_id: uuid.UUID, employee_ref: str) -> list[uuid.UUID]:
    query = select(Case.id).where(Case.tenant_id == tenant_id, Case.employee_ref == employee_ref)
    ids = list((await session.execute(query.order_by(Case.first_sick_day))).scalars())
    if not ids:
        raise NotFound("No cases for that employee reference.")
    return ids


async def export(
    session: AsyncSession, tenant_id: uuid.UUID, employee_ref: str, *, medical: bool
) -> EmployeeExport:
    """`medical` only for the occupational physician (A3)."""
    ids = await _case_ids(session, tenant_id, employee_ref)

    async def rows(model: Any, column: Any, order: Any) -> dict[uuid.UUID, list[dict[str, Any]]]:
        grouped: dict[uuid.UUID, list[dict[str, Any]]] = {case_id: [] for case_id in ids}
        for obj in (await session.execute(select(model).where(column.in_(ids)).order_by(order))).scalars():
            grouped[obj.case_id].append(_row(obj))
        return grouped

    periods = await rows(SicknessPeriod, SicknessPeriod.case_id, SicknessPeriod.started_on)
    tracks = await rows(Track, Track.case_id, Track.started_on)
    waivers = await rows(Track2Waiver, Track2Waiver.case_id, Track2Waiver.recorded_on)
    activities = await rows(Activity, Activity.case_id, Activity.occurred_on)
    deadlines = await rows(StoredDeadline, StoredDeadline.case_id, StoredDeadline.due_on)
    track_ids = [track["id"] for per_case in tracks.values() for track in per_case]
    phases: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for phase in (
        await session.execute(
            select(TrackPhase).where(TrackPhase.track_id.in_(track_ids)).order_by(TrackPhase.position)
        )
    ).scalars():
        phases.setdefault(phase.track_id, []).append(_row(phase))
    medical_parts: dict[uuid.UUID, Any] = {}
    if medical:
        activity_ids = [a["id"] for per_case in activities.values() for a in per_case]
        medical_parts = dict(
            (
                await session.execute(
                    select(ActivityMedicalPart.activity_id, ActivityMedicalPart.content).where(
                        ActivityMedicalPart.activity_id.in_(activity_ids)
                    )
                )
            ).all()
        )
    cases = []
    for case in (
        await session.execute(select(Case).where(Case.id.in_(ids)).order_by(Case.first_sick_day))
    ).scalars():
        for activity in activities[case.id]:
            if activity["id"] in medical_parts:
                activity["medical"] = medical_parts[activity["id"]]
        cases.append(
            {
                **_row(case),
                "sickness_periods": periods[case.id],
                "tracks": [{**track, "phases": phases.get(track["id"], [])} for track in tracks[case.id]],
                "track_2_waivers": waivers[case.id],
                "activities": activities[case.id],
                "deadlines": deadlines[case.id],
            }
        )
    return EmployeeExport(employee_ref=employee_ref, exported_at=datetime.now(UTC), cases=cases)


async def erase(session: AsyncSession, tenant_id: uuid.UUID, employee_ref: str) -> ErasureResult:
    ids = await _case_ids(session, tenant_id, employee_ref)
    pseudonym = PSEUDONYM_PREFIX + uuid.uuid4().hex
    activities = await erase_cases(session, tenant_id, ids, pseudonym, employee_ref)
    return ErasureResult(pseudonym=pseudonym, cases=len(ids), activities=activities)


async def erase_cases(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    case_ids: Sequence[uuid.UUID],
    pseudonym: str,
    employee_ref: str,
) -> int:
    """Blank every personal and free-text field of these cases; keep kinds, dates, phases, outcomes."""
    ids = list(case_ids)
    await session.execute(
        update(Case)
        .where(Case.id.in_(ids))
        .values(employee_ref=pseudonym, employee_display_name=None, version=Case.version + 1)
    )
    result = await session.execute(
        update(Activity)
        .where(Activity.case_id.in_(ids))
        .values(summary=None, outcome=None, details={}, external_id=None)
    )
    await session.execute(
        delete(ActivityMedicalPart).where(
            ActivityMedicalPart.activity_id.in_(select(Activity.id).where(Activity.case_id.in_(ids)))
        )
    )
    await session.execute(update(Track).where(Track.case_id.in_(ids)).values(closing_note=None))
    await session.execute(
        update(TrackPhase)
        .where(TrackPhase.track_id.in_(select(Track.id).where(Track.case_id.in_(ids))))
        .values(note=None)
    )
    await session.execute(update(Track2Waiver).where(Track2Waiver.case_id.in_(ids)).values(note=None))
    # Stored responses for Idempotency-Key replays may quote the employee: drop those of these cases.
    mentions = [IdempotencyRecord.response_body.cast(String).contains(employee_ref)]
    mentions += [cast(IdempotencyRecord.response_body, String).contains(str(case_id)) for case_id in ids]
    await session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.tenant_id == tenant_id, or_(*mentions))
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def purge_closed_before(session: AsyncSession, cutoff: date) -> int:
    """Retention: erase every case closed before `cutoff` that is not erased yet. Returns how many."""
    cases = (
        await session.execute(
            select(Case.id, Case.tenant_id, Case.employee_ref).where(
                Case.status == "closed",
                Case.closed_on < cutoff,
                ~Case.employee_ref.startswith(PSEUDONYM_PREFIX),
            )
        )
    ).all()
    for case_id, tenant_id, employee_ref in cases:
        await erase_cases(session, tenant_id, [case_id], PSEUDONYM_PREFIX + uuid.uuid4().hex, employee_ref)
    return len(cases)
