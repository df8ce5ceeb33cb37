"""Cases: open, read, list, update. Services flush, never commit; every query is scoped by tenant."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.cases.schemas import (
    CaseCreate,
    CaseRead,
    CaseUpdate,
)
from app.db import SqlArguments
from app.domain.errors import InvalidInput, NotFound
from app.events.catalogue import EventType
from app.events.service import emit
from app.http import decode_cursor, encode_cursor, utc_time
from app.ids import new_id
from app.json_sql import ColumnsOf, json_items, json_model, page_limit
from app.models.cases import Case, SicknessPeriod
from app.problems import precondition_failed
from app.timeline.service import refresh_case_deadlines


def field_error(pointer: str, reason: str) -> InvalidInput:
    return InvalidInput(
        reason, extra={"errors": [{"pointer": pointer, "reason": reason, "type": "value_error"}]}
    )


def read_fields(case: Any) -> dict[str, Any]:
    """CaseRead's fields from a Case, a row of its columns or a record with the same attributes."""
    return {
        "id": case.id,
        "employee": {"external_ref": case.employee_ref, "display_name": case.employee_display_name},
        "first_sick_day": case.first_sick_day,
        "case_manager": case.case_manager,
        "long_term_expected_on": case.long_term_expected_on,
        "employment_ends_on": case.employment_ends_on,
        "flags": {
            "safety_net": case.safety_net,
            "work_accident": case.work_accident,
            "third_party_liability": case.third_party_liability,
        },
        "status": case.status,
        "closed_on": case.closed_on,
        "version": case.version,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
    }


def to_read(case: Any) -> CaseRead:
    return CaseRead.model_validate(read_fields(case))


async def open_case(
    session: AsyncSession, tenant_id: uuid.UUID, data: CaseCreate, today: date, horizon_days: int = 14
) -> Case:
    if data.first_sick_day > today:
        raise field_error("#/first_sick_day", "The first sick day cannot be in the future.")
    if data.long_term_expected_on is not None and data.long_term_expected_on < data.first_sick_day:
        raise field_error("#/long_term_expected_on", "Cannot be before the first sick day.")
    case = Case(
        id=new_id(),
        tenant_id=tenant_id,
        employee_ref=data.employee.external_ref,
        employee_display_name=data.employee.display_name,
        first_sick_day=data.first_sick_day,
        case_manager=data.case_manager,
        long_term_expected_on=data.long_term_expected_on,
        employment_ends_on=data.employment_ends_on,
        safety_net=data.flags.safety_net,
        work_accident=data.flags.work_accident,
        third_party_liability=data.flags.third_party_liability,
    )
    session.add(case)
    session.add(SicknessPeriod(tenant_id=tenant_id, case_id=case.id, started_on=data.first_sick_day))
    await session.flush()
    await emit(
        session, tenant_id, EventType.case_opened, {"case_id": case.id, "first_sick_day": case.first_sick_day}
    )
    await refresh_case_deadlines(session, case, today, horizon_days)
    await session.flush()
    await session.refresh(case)
    return case


async def get_case(
    session: AsyncSession, tenant_id: uuid.UUID, case_id: uuid.UUID, *, for_update: bool = False
) -> Case:
    query = select(Case).where(Case.id == case_id, Case.tenant_id == tenant_id)
    if for_update:
        query = query.with_for_update()
    case = (await session.execute(query)).scalar_one_or_none()
    if case is None:
        raise NotFound(f"No case {case_id}.")
    return case


@dataclass(frozen=True, slots=True)
class CaseFilters:
    status: str | None = None
    case_manager: str | None = None
    employee_ref: str | None = None
    has_overdue: bool | None = None
    as_of: date | None = None
    # Coach keys: only cases with a track of this provider.
    provider: str | None = None


# Lists read columns, not ORM objects: materialising 50 entities per page cost more than the query; and
# as plain SQL on the driver connection, since building and compiling the Core select cost as much again.
CASE_COLUMNS = tuple(cast(Table, Case.__table__).c)
CASE_LIST_SELECT = (  # the model's column names, no values
    "SELECT "  # noqa: S608
    + ", ".join(f"c.{column.name}" for column in CASE_COLUMNS)
    + " FROM cases AS c WHERE c.tenant_id = $1"
)
# Each row of the page written out as CaseRead's JSON (`app.json_sql`), by the same mapping as the
# model's own (`read_fields`).
CASE_LIST_ITEM = json_model(CaseRead, read_fields(ColumnsOf("page")))
# For has_overdue: the case has an open deadline past its due date.
OVERDUE_CONDITION = (
    "EXISTS (SELECT 1 FROM deadlines AS d WHERE d.case_id = c.id AND d.state = 'open' AND d.due_on < {})"
)


def case_list_statement(
    tenant_id: uuid.UUID, filters: CaseFilters, limit: int, cursor: str | None
) -> tuple[str, list[Any]]:
    """The case list page's statement and its arguments (the query-plan test EXPLAINs exactly these): per
    case its JSON text, then its creation time and id for the cursor."""
    arguments = SqlArguments([tenant_id])
    conditions = []
    if filters.status is not None:
        conditions.append(f"c.status = {arguments.bind(filters.status)}")
    if filters.case_manager is not None:
        conditions.append(f"c.case_manager = {arguments.bind(filters.case_manager)}")
    if filters.employee_ref is not None:
        conditions.append(f"c.employee_ref = {arguments.bind(filters.employee_ref)}")
    if filters.provider is not None:
        provider = arguments.bind(filters.provider)
        conditions.append(
            f"EXISTS (SELECT 1 FROM tracks AS t WHERE t.case_id = c.id AND t.provider = {provider})"  # noqa: S608
        )
    if filters.has_overdue is not None:
        overdue = OVERDUE_CONDITION.format(arguments.bind(filters.as_of or date.today()))
        conditions.append(overdue if filters.has_overdue else f"NOT {overdue}")
    if cursor is not None:
        position = decode_cursor(cursor, {"created_at": utc_time, "id": uuid.UUID})
        after_time, after_id = position["created_at"], position["id"]
        at = arguments.bind(after_time)
        conditions.append(
            f"(c.created_at > {at} OR (c.created_at = {at} AND c.id > {arguments.bind(after_id)}))"
        )
    statement = CASE_LIST_SELECT + "".join(f"\n  AND {condition}" for condition in conditions)
    page = statement + f"\nORDER BY c.created_at, c.id LIMIT {page_limit(limit)}"
    return json_items(page, CASE_LIST_ITEM, ("created_at", "id")), arguments


async def list_cases(
    session: AsyncSession, tenant_id: uuid.UUID, filters: CaseFilters, limit: int, cursor: str | None
) -> tuple[list[str], str | None]:
    """A page of cases: each as CaseRead's JSON text, and the next page's cursor."""
    statement, arguments = case_list_statement(tenant_id, filters, limit, cursor)
    rows = await audit.fetch_with_success_entry(session, statement, *arguments)
    next_cursor = None
    if len(rows) > limit:
        _, created_at, last_id = rows[limit - 1]
        next_cursor = encode_cursor({"created_at": created_at.isoformat(), "id": str(last_id)})
    return [row[0] for row in rows[:limit]], next_cursor


async def update_case(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    case_id: uuid.UUID,
    expected_version: int,
    data: CaseUpdate,
    today: date,
    horizon_days: int = 14,
) -> Case:
    case = await get_case(session, tenant_id, case_id, for_update=True)
    if case.version != expected_version:
        raise precondition_failed(f"The case is at version {case.version}, not {expected_version}.")
    sent = data.model_fields_set
    if "employee" in sent:
        if data.employee is None:
            raise field_error("#/employee", "The employee cannot be removed.")
        case.employee_ref = data.employee.external_ref
        case.employee_display_name = data.employee.display_name
    if "case_manager" in sent:
        case.case_manager = data.case_manager
    if "long_term_expected_on" in sent:
        if data.long_term_expected_on is not None and data.long_term_expected_on < case.first_sick_day:
            raise field_error("#/long_term_expected_on", "Cannot be before the first sick day.")
        case.long_term_expected_on = data.long_term_expected_on
    if "employment_ends_on" in sent:
        case.employment_ends_on = data.employment_ends_on
    if "flags" in sent and data.flags is not None:
        case.safety_net = data.flags.safety_net
        case.work_accident = data.flags.work_accident
        case.third_party_liability = data.flags.third_party_liability
    if sent & {"long_term_expected_on", "employment_ends_on"}:
        await refresh_case_deadlines(session, case, today, horizon_days)
    await session.flush()
    await session.refresh(case)
    if sent:
        changed = {"case_id": case.id, "version": case.version, "changed_fields": sorted(sent)}
        await emit(session, tenant_id, EventType.case_updated, changed)
    return case
