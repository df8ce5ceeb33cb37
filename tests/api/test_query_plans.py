"""The worklist and the case list filters use indexes at scale: EXPLAIN the statements the services
actually send, over a seeded tenant of 20,000 cases (200,000 deadlines) among 40,000, and fail on a
sequential scan of the big tables."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.cases.overview import CASE_OVERVIEW
from app.cases.service import CaseFilters, case_list_statement
from app.db import driver_connection
from app.deadlines.service import WorklistFilters, worklist_statement
from app.http import encode_cursor
from app.timeline.service import CASE_WITH_INPUTS, CASES_INPUTS
from tests.conftest import TenantKeys

BIG_TABLES = {"cases", "deadlines", "activities", "tracks", "sickness_periods"}
AS_OF = date(2026, 11, 23)


async def seed(db: AsyncSession, tenant_id: Any, other_tenant_id: Any) -> None:
    for tenant, count in ((tenant_id, 20_000), (other_tenant_id, 20_000)):
        await db.execute(
            text(
                """
                INSERT INTO cases (id, tenant_id, employee_ref, first_sick_day, case_manager, status)
                SELECT gen_random_uuid(), :tenant, 'E-' || n, DATE '2025-01-01' + (n % 600),
                       'manager-' || (n % 40), 'open'
                FROM generate_series(1, :count) AS n
                """
            ),
            {"tenant": tenant, "count": count},
        )
    await db.execute(
        text(
            """
            INSERT INTO deadlines (id, tenant_id, case_id, code, rule, title, due_on, state, source)
            SELECT gen_random_uuid(), c.tenant_id, c.id, code, 'T' || k, code,
                   c.first_sick_day + (k * 30)::int,
                   CASE WHEN k < 4 THEN 'met' ELSE 'open' END, 'seed'
            FROM cases c,
                 unnest(ARRAY['occupational_health_notified', 'problem_analysis', 'action_plan',
                              'action_plan_evaluation', 'uwv_sick_notification', 'first_year_evaluation',
                              'track_2_start', 'current_assessment', 'final_evaluation', 'wia_application'])
                 WITH ORDINALITY AS codes(code, k)
            """
        )
    )
    for table in BIG_TABLES:
        await db.execute(text(f"ANALYZE {table}"))


def scans(plan: dict[str, Any]) -> list[tuple[str, str]]:
    found = [(plan["Node Type"], plan.get("Relation Name", ""))]
    for child in plan.get("Plans", []):
        found += scans(child)
    return found


PLAN_MODES = ("custom", "generic")


def sql_literal(value: Any) -> str:
    """A test's argument as an untyped SQL literal (EXECUTE takes no bind parameters); the prepared
    statement's parameter types give it its type."""
    if value is None:
        return "NULL"
    if isinstance(value, bool | int):
        return str(value).lower()
    if isinstance(value, list | tuple):
        return sql_literal("{" + ",".join(f'"{item}"' for item in value) + "}")
    text = value.isoformat() if isinstance(value, date | datetime) else str(value)
    return "'" + text.replace("'", "''") + "'"


async def explain(
    connection: Any, statement: str, arguments: Sequence[Any], mode: str, options: str = "FORMAT JSON"
) -> dict[str, Any]:
    """The plan of `statement`. "custom": planned with the arguments' values, as the first five runs of a
    prepared statement are. "generic": the plan without them that PostgreSQL switches to after that when
    it costs no more. Only EXPLAIN EXECUTE of a prepared statement shows that one: a parameterised
    EXPLAIN plans with the values, whatever plan_cache_mode says."""
    options = "VERBOSE, " + options  # VERBOSE names every parameter a node still takes
    if mode == "custom":
        raw = await connection.fetchval(f"EXPLAIN ({options}) " + statement, *arguments)
    else:
        await connection.execute("PREPARE plan_probe AS " + statement)
        await connection.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        values = ", ".join(sql_literal(argument) for argument in arguments)
        raw = await connection.fetchval(f"EXPLAIN ({options}) EXECUTE plan_probe({values})")
        await connection.execute("DEALLOCATE plan_probe")
        await connection.execute("SET LOCAL plan_cache_mode = auto")
    plan: dict[str, Any] = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    if mode == "generic" and arguments:
        assert "$1" in json.dumps(plan), f"not a generic plan (no parameter left in it):\n{statement}"
    return plan


async def assert_indexed(connection: Any, statement: str, arguments: list[Any]) -> None:
    for mode in PLAN_MODES:
        plan = await explain(connection, statement, arguments, mode)
        seq = [relation for node, relation in scans(plan) if node == "Seq Scan" and relation in BIG_TABLES]
        assert seq == [], f"{mode} plan: sequential scan of {seq} in:\n{statement}"


WORKLISTS = [
    WorklistFilters(statuses=("overdue",)),
    WorklistFilters(statuses=("due_soon", "overdue"), case_manager="manager-7"),
    WorklistFilters(codes=("wia_application",), due_from=date(2027, 1, 1), due_to=date(2027, 3, 1)),
    WorklistFilters(),
    WorklistFilters(statuses=("overdue", "met")),
]
CASE_LISTS = [
    CaseFilters(has_overdue=True, as_of=AS_OF),
    CaseFilters(case_manager="manager-3"),
    CaseFilters(employee_ref="E-123"),
    CaseFilters(status="open"),
    CaseFilters(has_overdue=False, as_of=AS_OF, case_manager="manager-3"),
]


async def test_the_worklist_and_the_case_list_filters_use_indexes(
    db: AsyncSession, tenant_a: TenantKeys, tenant_b: TenantKeys
) -> None:
    await seed(db, tenant_a.tenant_id, tenant_b.tenant_id)
    after = encode_cursor({"due_on": "2026-01-01", "id": str(uuid.uuid4())})
    after_case = encode_cursor({"created_at": "2026-01-01T00:00:00+00:00", "id": str(uuid.uuid4())})
    connection = await driver_connection(db, begin=False)
    for filters in WORKLISTS:
        for cursor in (None, after):
            statement, arguments = worklist_statement(tenant_a.tenant_id, filters, AS_OF, 14, 50, cursor)
            await assert_indexed(connection, statement, arguments)
    for case_filters in CASE_LISTS:
        for cursor in (None, after_case):
            statement, arguments = case_list_statement(tenant_a.tenant_id, case_filters, 50, cursor)
            await assert_indexed(connection, statement, arguments)


async def test_every_table_a_case_read_touches_is_reached_by_an_index(db: AsyncSession) -> None:
    """The statements behind GET /cases/{id}, its timeline and every deadline refresh: with sequential
    scans priced out, a table that is still scanned whole has no index for the way it is read."""
    connection = await driver_connection(db, begin=False)
    await connection.execute("SET LOCAL enable_seqscan = off")
    case_id, tenant_id = uuid.uuid4(), uuid.uuid4()
    statements: list[tuple[str, tuple[Any, ...]]] = [
        (CASE_OVERVIEW, (case_id, tenant_id, AS_OF)),
        (CASE_WITH_INPUTS, (case_id, tenant_id)),
        (CASES_INPUTS, ([case_id, uuid.uuid4()],)),
    ]
    for mode in PLAN_MODES:
        for statement, arguments in statements:
            plan = await explain(connection, statement, arguments, mode)
            seq = [relation for node, relation in scans(plan) if node == "Seq Scan"]
            assert seq == [], f"{mode} plan: sequential scan of {seq} in:\n{statement}"


def plan_nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    found = [plan]
    for child in plan.get("Plans", []):
        found += plan_nodes(child)
    return found


async def test_a_case_read_fetches_only_the_activities_of_the_kinds_it_needs(
    db: AsyncSession, tenant_a: TenantKeys
) -> None:
    """The timeline's inputs and the soft rules read a few kinds of a case's activities. Reached by case
    alone, every case read fetched all of the case's activity rows and dropped most by kind (at 50 per
    case, 40-odd heap pages per read, the service's largest cost at 100,000 cases)."""
    await db.execute(
        text(
            """
            INSERT INTO cases (id, tenant_id, employee_ref, first_sick_day, case_manager, status)
            SELECT gen_random_uuid(), :tenant, 'E-' || n, DATE '2025-01-01' + (n % 300), 'manager', 'open'
            FROM generate_series(1, 2000) AS n
            """
        ),
        {"tenant": tenant_a.tenant_id},
    )
    await db.execute(
        text(
            """
            INSERT INTO activities (id, tenant_id, case_id, kind, occurred_on, content_hash, recorded_by_role)
            SELECT gen_random_uuid(), c.tenant_id, c.id,
                   (ARRAY['employee_contact', 'physician_consultation', 'workplace_adjustment',
                          'coaching_session', 'action_plan', 'evaluation'])[1 + n % 6],
                   c.first_sick_day + n, md5(n::text), 'case_manager'
            FROM cases AS c, generate_series(1, 50) AS n
            WHERE c.tenant_id = :tenant
            """
        ),
        {"tenant": tenant_a.tenant_id},
    )
    await db.execute(text("ANALYZE cases"))
    await db.execute(text("ANALYZE activities"))
    case_id = (
        await db.execute(text("SELECT id FROM cases WHERE tenant_id = :t LIMIT 1"), {"t": tenant_a.tenant_id})
    ).scalar_one()
    connection = await driver_connection(db, begin=False)
    statements: list[tuple[str, tuple[Any, ...]]] = [
        (CASE_OVERVIEW, (case_id, tenant_a.tenant_id, AS_OF)),
        (CASE_WITH_INPUTS, (case_id, tenant_a.tenant_id)),
        (CASES_INPUTS, ([case_id],)),
    ]
    # Custom plans know the arguments; the generic plan that a prepared statement switches to after five
    # runs does not, and still has to find the kind index (partial: the statement's literals imply it).
    for plan_mode in PLAN_MODES:
        for statement, arguments in statements:
            plan = await explain(connection, statement, arguments, plan_mode, "ANALYZE, FORMAT JSON")
            fetched_and_dropped = [
                (node["Node Type"], node["Filter"], node["Rows Removed by Filter"])
                for node in plan_nodes(plan)
                if node.get("Relation Name") == "activities"
                and "kind" in node.get("Filter", "")
                and node.get("Rows Removed by Filter", 0) > 0
            ]
            assert fetched_and_dropped == [], (
                f"{plan_mode}: activities fetched and then dropped by kind in:\n{statement}"
            )


async def test_the_lists_generic_plans_expect_one_page_of_rows(
    db: AsyncSession, tenant_a: TenantKeys, tenant_b: TenantKeys
) -> None:
    """A prepared statement is planned for its arguments five times, then PostgreSQL keeps its generic
    plan if that costs no more. With `LIMIT $n` the generic plan expected a tenth of the table, never cost
    less, and every page paid for planning again (0.15-0.2 ms of the database's CPU at 100,000 cases). The
    pages' LIMIT is a literal (`app.json_sql.page_limit`), so the generic plan expects one page."""
    await seed(db, tenant_a.tenant_id, tenant_b.tenant_id)
    connection = await driver_connection(db, begin=False)
    statements = [
        worklist_statement(tenant_a.tenant_id, filters, AS_OF, 14, 50, None) for filters in WORKLISTS
    ]
    statements += [case_list_statement(tenant_a.tenant_id, filters, 50, None) for filters in CASE_LISTS]
    for statement, arguments in statements:
        plan = await explain(connection, statement, arguments, "generic")
        limits = [node["Plan Rows"] for node in plan_nodes(plan) if node["Node Type"] == "Limit"]
        assert limits and max(limits) <= 51, f"the generic plan expects {limits} rows:\n{statement}"
