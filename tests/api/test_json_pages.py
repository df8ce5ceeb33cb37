"""The lists whose items PostgreSQL writes as JSON (`app.json_sql`: the worklist and the case list) answer
byte for byte what their read models would: every field, in order, with nulls, escapes of any text the
database can hold, dates, and timestamps with and without microseconds, on every page."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import delete

from app.cases.schemas import CaseRead
from app.cases.service import read_fields
from app.config import Settings
from app.db import create_engine, create_sessionmaker
from app.deadlines.schemas import WorklistDeadline
from app.models.cases import Case
from app.models.deadlines import DEADLINE_STATES, StoredDeadline
from app.models.tenants import Role, Tenant
from app.schemas import Page
from tests.conftest import make_tenant

AS_OF = date(2026, 6, 1)

# Any text PostgreSQL stores: control characters, quotes, backslashes, U+2028, astral characters; not
# NUL (text cannot hold it) and not lone surrogates (not UTF-8).
stored_text = st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=12)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))
timestamps = st.builds(
    lambda moment, whole: moment.replace(microsecond=0) if whole else moment,
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)),
    st.booleans(),
)


@dataclass
class DeadlineSpec:
    code: str
    title: str
    occurrence: int | None
    with_track: bool
    due_on: date | None
    window_starts_on: date | None
    state: str
    satisfied_by: str | None
    satisfied_on: date | None
    source: str


@dataclass
class CaseSpec:
    employee_ref: str
    display_name: str | None
    case_manager: str | None
    first_sick_day: date
    long_term_expected_on: date | None
    employment_ends_on: date | None
    flags: tuple[bool, bool, bool]
    status: str
    closed_on: date | None
    version: int
    created_at: datetime
    updated_at: datetime
    deadlines: list[DeadlineSpec]


deadline_specs = st.builds(
    DeadlineSpec,
    code=stored_text.filter(lambda text: len(text) <= 60),
    title=stored_text,
    occurrence=st.none() | st.integers(1, 40),
    with_track=st.booleans(),
    # Around AS_OF, so every status occurs: overdue, due_soon (within 14 days), upcoming.
    due_on=st.none() | st.integers(-30, 30).map(lambda offset: AS_OF + timedelta(days=offset)),
    window_starts_on=st.none() | days,
    state=st.sampled_from(DEADLINE_STATES),
    satisfied_by=st.none() | stored_text,
    satisfied_on=st.none() | days,
    source=stored_text,
)
case_specs = st.builds(
    CaseSpec,
    employee_ref=stored_text,
    display_name=st.none() | stored_text,
    case_manager=st.none() | stored_text,
    first_sick_day=days,
    long_term_expected_on=st.none() | days,
    employment_ends_on=st.none() | days,
    flags=st.tuples(st.booleans(), st.booleans(), st.booleans()),
    status=st.sampled_from(["open", "recovered", "closed"]),
    closed_on=st.none() | days,
    version=st.integers(1, 2**31 - 1),
    created_at=timestamps,
    updated_at=timestamps,
    deadlines=st.lists(deadline_specs, max_size=4),
)

NASTY = '"\\/\b\f\n\r\t\x01\x1f\x7f\u2028é€😀'
NASTY_CASE = CaseSpec(
    employee_ref=NASTY,
    display_name=None,
    case_manager=NASTY,
    first_sick_day=date(2026, 1, 5),
    long_term_expected_on=None,
    employment_ends_on=date(2026, 12, 31),
    flags=(True, False, True),
    status="open",
    closed_on=None,
    version=7,
    created_at=datetime(2026, 1, 5, 9, 30, tzinfo=UTC),
    updated_at=datetime(2026, 1, 5, 9, 30, 0, 120000, tzinfo=UTC),
    deadlines=[
        DeadlineSpec("problem_analysis", NASTY, None, False, AS_OF - timedelta(days=1), None, "open",
                     None, None, NASTY),
        DeadlineSpec("evaluation", "Evaluatie", 3, True, AS_OF, AS_OF - timedelta(days=7), "open",
                     None, None, "rule"),
        DeadlineSpec("riv", "RIV", None, False, AS_OF + timedelta(days=14), None, "met", NASTY,
                     AS_OF, "rule"),
    ],
)  # fmt: skip


def status_as_of(deadline: StoredDeadline, as_of: date, horizon_days: int) -> str:
    assert deadline.due_on is not None
    if deadline.state != "open":
        return deadline.state
    if deadline.due_on < as_of:
        return "overdue"
    return "due_soon" if deadline.due_on <= as_of + timedelta(days=horizon_days) else "upcoming"


async def pages(client: httpx.AsyncClient, path: str, headers: dict[str, str], limit: int) -> list[bytes]:
    """Every page of a list, following next_cursor; checks each Link header against it."""
    bodies: list[bytes] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit, "as_of": AS_OF.isoformat()}
        if cursor is not None:
            params["cursor"] = cursor
        response = await client.get(path, params=params, headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        bodies.append(response.content)
        cursor = response.json()["next_cursor"]
        assert ("link" in response.headers) == (cursor is not None)
        if cursor is None:
            return bodies


def expected_pages(
    page_type: Any, items: list[dict[str, Any]], bodies: list[bytes], limit: int
) -> list[bytes]:
    """What the read model writes for the same items, cut into pages as the service cut them."""
    expected = []
    for number, body in enumerate(bodies):
        chunk = items[number * limit : (number + 1) * limit]
        next_cursor = page_type.model_validate_json(body).next_cursor
        expected.append(
            page_type.model_validate({"items": chunk, "next_cursor": next_cursor}).model_dump_json()
        )
    return [text.encode() for text in expected]


async def check_lists(app: FastAPI, app_settings: Settings, specs: list[CaseSpec], limit: int) -> None:
    engine = create_engine(app_settings)
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker = create_sessionmaker(engine)
    async with sessionmaker() as session, session.begin():
        tenant = await make_tenant(session, f"json-{uuid.uuid4().hex[:8]}")
    try:
        async with sessionmaker() as session, session.begin():
            cases, deadlines = [], []
            for spec in specs:
                case = Case(
                    tenant_id=tenant.tenant_id,
                    employee_ref=spec.employee_ref,
                    employee_display_name=spec.display_name,
                    first_sick_day=spec.first_sick_day,
                    case_manager=spec.case_manager,
                    long_term_expected_on=spec.long_term_expected_on,
                    employment_ends_on=spec.employment_ends_on,
                    safety_net=spec.flags[0],
                    work_accident=spec.flags[1],
                    third_party_liability=spec.flags[2],
                    status=spec.status,
                    closed_on=spec.closed_on,
                    version=spec.version,
                    created_at=spec.created_at,
                    updated_at=spec.updated_at,
                )
                session.add(case)
                await session.flush()
                cases.append(case)
                for item in spec.deadlines:
                    deadline = StoredDeadline(
                        tenant_id=tenant.tenant_id,
                        case_id=case.id,
                        code=item.code,
                        rule="T1",
                        title=item.title,
                        occurrence=item.occurrence,
                        track_id=uuid.uuid4() if item.with_track else None,
                        due_on=item.due_on,
                        window_starts_on=item.window_starts_on,
                        state=item.state,
                        satisfied_by=item.satisfied_by,
                        satisfied_on=item.satisfied_on,
                        source=item.source,
                    )
                    session.add(deadline)
                    deadlines.append((deadline, case))
            await session.flush()
            # Timestamps as stored (the column keeps microseconds; `version` may be moved by a trigger).
            for case in cases:
                await session.refresh(case)

        headers = tenant.headers(Role.case_manager)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            case_items = [read_fields(case) for case in sorted(cases, key=lambda c: (c.created_at, c.id))]
            bodies = await pages(client, "/api/v1/cases", headers, limit)
            assert bodies == expected_pages(Page[CaseRead], case_items, bodies, limit)

            horizon = app_settings.due_soon_days
            listed = sorted(
                ((d, c) for d, c in deadlines if d.due_on is not None),
                key=lambda pair: (pair[0].due_on, pair[0].id),
            )
            worklist_items = [
                {
                    **{field: getattr(deadline, field, None) for field in WorklistDeadline.model_fields},
                    "employee_ref": case.employee_ref,
                    "case_manager": case.case_manager,
                    "status": status_as_of(deadline, AS_OF, horizon),
                }
                for deadline, case in listed
            ]
            bodies = await pages(client, "/api/v1/deadlines", headers, limit)
            assert bodies == expected_pages(Page[WorklistDeadline], worklist_items, bodies, limit)
    finally:
        async with sessionmaker() as session, session.begin():
            await session.execute(delete(Tenant).where(Tenant.id == tenant.tenant_id))
        await engine.dispose()


@given(specs=st.lists(case_specs, min_size=1, max_size=6), limit=st.integers(1, 4))
@example(specs=[NASTY_CASE], limit=1)
@example(specs=[NASTY_CASE], limit=50)
@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
def test_the_json_written_lists_equal_their_read_models(
    specs: list[CaseSpec], limit: int, app: FastAPI, settings: Settings
) -> None:
    asyncio.run(check_lists(app, settings, specs, limit))


def test_a_page_of_nothing(app: FastAPI, settings: Settings) -> None:
    asyncio.run(check_lists(app, settings, [], 50))
