"""Sickness periods: relapses and recoveries. Every change is validated as a whole against T0 by the
domain clock and refreshes the case's deadlines in the same transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.cases.service import field_error, get_case
from app.domain.clock import SicknessPeriod as DomainPeriod
from app.domain.clock import build_clock
from app.domain.errors import NotFound
from app.events.catalogue import EventType
from app.events.service import emit
from app.models.cases import Case, SicknessPeriod
from app.problems import precondition_failed
from app.sickness_periods.schemas import SicknessPeriodCreate, SicknessPeriodUpdate
from app.timeline.service import refresh_case_deadlines


async def list_periods(
    session: AsyncSession, tenant_id: uuid.UUID, case_id: uuid.UUID
) -> Sequence[SicknessPeriod]:
    await get_case(session, tenant_id, case_id)
    return await _periods(session, case_id)


async def _periods(session: AsyncSession, case_id: uuid.UUID) -> Sequence[SicknessPeriod]:
    return (
        (
            await session.execute(
                select(SicknessPeriod)
                .where(SicknessPeriod.case_id == case_id)
                .order_by(SicknessPeriod.started_on)
            )
        )
        .scalars()
        .all()
    )


def _validate(case: Case, periods: Sequence[SicknessPeriod | SicknessPeriodCreate], today: date) -> None:
    for period in periods:
        if period.started_on > today:
            raise field_error("#/started_on", "A sickness period cannot start in the future.")
        if period.ended_on is not None and period.ended_on > today:
            raise field_error("#/ended_on", "Recovery cannot be recorded for a future day.")
    build_clock(
        case.first_sick_day,
        [
            DomainPeriod(
                start=p.started_on,
                end=p.ended_on,
                pregnancy_leave_in_gap=p.pregnancy_leave_days > 0,
                pregnancy_leave_days=p.pregnancy_leave_days,
                same_cause_not_pregnancy=p.same_cause_not_pregnancy,
            )
            for p in periods
        ],
    )


async def add_period(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    case_id: uuid.UUID,
    body: SicknessPeriodCreate,
    today: date,
    horizon_days: int,
) -> SicknessPeriod:
    case = await get_case(session, tenant_id, case_id, for_update=True)
    existing = list(await _periods(session, case.id))
    _validate(case, [*existing, body], today)
    period = SicknessPeriod(
        tenant_id=tenant_id,
        case_id=case.id,
        started_on=body.started_on,
        ended_on=body.ended_on,
        pregnancy_leave_days=body.pregnancy_leave_days,
        same_cause_not_pregnancy=body.same_cause_not_pregnancy,
    )
    session.add(period)
    await session.flush()
    await emit(session, tenant_id, EventType.sickness_period_changed, period_payload(period, "added"))
    await refresh_case_deadlines(session, case, today, horizon_days)
    await session.refresh(period)
    return period


async def update_period(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    case_id: uuid.UUID,
    period_id: uuid.UUID,
    expected_version: int,
    body: SicknessPeriodUpdate,
    today: date,
    horizon_days: int,
) -> SicknessPeriod:
    case = await get_case(session, tenant_id, case_id, for_update=True)
    periods = list(await _periods(session, case.id))
    period = next((p for p in periods if p.id == period_id), None)
    if period is None:
        raise NotFound(f"No sickness period {period_id} on this case.")
    if period.version != expected_version:
        raise precondition_failed(f"The period is at version {period.version}, not {expected_version}.")
    if body.ended_on is not None and body.ended_on < period.started_on:
        raise field_error("#/ended_on", "Recovery cannot be before the period started.")
    period.ended_on = body.ended_on
    _validate(case, periods, today)
    await session.flush()
    await emit(session, tenant_id, EventType.sickness_period_changed, period_payload(period, "updated"))
    await refresh_case_deadlines(session, case, today, horizon_days)
    await session.refresh(period)
    return period


def period_payload(period: SicknessPeriod, change: str) -> dict[str, object]:
    return {
        "case_id": period.case_id,
        "sickness_period_id": period.id,
        "started_on": period.started_on,
        "ended_on": period.ended_on,
        "change": change,
    }
