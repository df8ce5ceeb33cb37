"""Demo data for `poortwachter serve --demo`: a tenant, one key per role, and five cases at different
stages, with their documents, tracks and phases recorded through the same services the API uses.
Idempotent: a restart reuses the tenant, the keys (kept in a git-ignored file) and the cases."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.activities.schemas import ActivityCreate
from app.activities.service import record_activity
from app.cases.schemas import CaseCreate, CaseFlags, Employee
from app.cases.service import open_case
from app.domain.activity_kinds import ActivityKind
from app.models.cases import Case
from app.models.tenants import ApiKey, Role
from app.security import Principal
from app.tenants.service import create_tenant, get_tenant_by_slug, issue_key, key_is_live
from app.tracks.schemas import PhaseTransitionCreate, TrackCreate
from app.tracks.service import start_track, transition

DEMO_TENANT_SLUG = "demo"
DEMO_TENANT_NAME = "Demo Installatietechniek BV"
PROVIDER = "Demo Re-integratie BV"

# Steps are (sick-day offset, what, arguments). "doc": a case activity; "t1"/"t2": an activity in that
# track; "start": start a track; "move": a phase transition.
Step = tuple[int, str, Any]

ACTION_PLAN = {
    "case_manager": "Case manager",
    "signed_by_employer": True,
    "signed_by_employee": True,
    "employer_view": "Build up hours in the own role, adapted tasks first.",
    "employee_view": "Agrees; prefers to start with mornings.",
}
FIRST_WEEKS: tuple[Step, ...] = (
    (2, "doc", ("occupational_health_notification", {})),
    (
        38,
        "physician",
        (
            "problem_analysis",
            {
                "functional_limitations": "No lifting over 10 kg; at most 4 hours a day",
                "expected_duration": "long_term",
                "long_term_absence_expected": True,
            },
        ),
    ),
    (49, "doc", ("action_plan", ACTION_PLAN)),
    (49, "start", "track_1"),
)
TRACK_1_WORK: tuple[Step, ...] = (
    (
        70,
        "t1",
        (
            "job_inventory",
            {
                "roles_considered": [
                    {"role": "Service engineer", "suitable": False},
                    {"role": "Work planner", "suitable": True},
                ]
            },
        ),
    ),
    (75, "move", ("track_1", "resumption")),
    (
        90,
        "t1",
        (
            "work_resumption",
            {"hours_per_week": 12, "wage_value_percentage": 30, "work_type": "other_internal_work"},
        ),
    ),
    *(
        (day, "doc", ("evaluation", {"progress_summary": "Hours built up as planned"}))
        for day in (91, 133, 175, 217, 259)
    ),
    (280, "doc", ("uwv_sick_notification", {"submitted_via": "online_portal"})),
    (300, "doc", ("labour_expert_assessment", {"conclusion": "Own work not feasible; other work at 24 h"})),
)
TRACK_2_START: tuple[Step, ...] = (
    (330, "doc", ("first_year_evaluation", {"employer_view": "Track 2 needed", "employee_view": "Agrees"})),
    (345, "start", "track_2"),
    (346, "t2", ("intake_meeting", {"provider": PROVIDER})),
    (352, "t2", ("personal_profile", {"education": "MBO 4 installatietechniek", "skills": ["planning"]})),
    (355, "t2", ("trajectory_plan", {"agreed_reporting_interval_days": 28})),
    (356, "move", ("track_2", "active_search")),
    (360, "t2", ("job_search_profile", {"target_roles": ["Work planner", "Service desk"]})),
    (
        380,
        "t2",
        (
            "job_application",
            {"employer": "Klimaat Noord BV", "vacancy": "Werkvoorbereider", "result": "invited"},
        ),
    ),
)


@dataclass(frozen=True)
class DemoCase:
    ref: str
    name: str
    weeks_ago: int
    case_manager: str
    flags: CaseFlags = field(default_factory=CaseFlags)
    steps: tuple[Step, ...] = ()


DEMO_CASES = (
    DemoCase("DEMO-001", "A. Bakker", 3, "m.jansen@demo.example", steps=FIRST_WEEKS[:1]),
    DemoCase("DEMO-002", "S. El Amrani", 9, "m.jansen@demo.example", steps=FIRST_WEEKS),
    DemoCase(
        "DEMO-003",
        "P. de Vries",
        47,
        "r.visser@demo.example",
        CaseFlags(work_accident=True),
        steps=FIRST_WEEKS + TRACK_1_WORK,
    ),
    DemoCase(
        "DEMO-004", "L. Smit", 60, "r.visser@demo.example", steps=FIRST_WEEKS + TRACK_1_WORK + TRACK_2_START
    ),
    # Track 2 late, evaluations stopped: warnings and overdue deadlines to look at.
    DemoCase(
        "DEMO-005",
        "K. Mulder",
        88,
        "m.jansen@demo.example",
        CaseFlags(safety_net=True),
        steps=FIRST_WEEKS + TRACK_1_WORK[:3] + ((430, "start", "track_2"),),
    ),
)


@dataclass(frozen=True)
class DemoSeed:
    tenant_id: uuid.UUID
    keys: dict[str, str]
    case_ids: list[uuid.UUID]


async def seed_demo(session: AsyncSession, known_keys: dict[str, str], today: date) -> DemoSeed:
    """`known_keys` are the keys printed last time (role -> secret); live ones are kept, others replaced."""
    tenant = await get_tenant_by_slug(session, DEMO_TENANT_SLUG)
    if tenant is None:
        tenant = await create_tenant(session, DEMO_TENANT_SLUG, DEMO_TENANT_NAME)
    keys = dict(known_keys)
    for role in Role:
        known = keys.get(role.value)
        if known is None or not await key_is_live(session, tenant.id, known):
            provider = PROVIDER if role is Role.coach else None
            _, keys[role.value] = await issue_key(
                session, tenant.id, role, f"demo {role.value}", provider=provider
            )
    key_ids = dict(
        (await session.execute(select(ApiKey.role, ApiKey.id).where(ApiKey.tenant_id == tenant.id))).all()
    )
    actors = {role: Principal(tenant.id, key_ids[role.value], role) for role in Role}

    case_ids = []
    for demo in DEMO_CASES:
        existing = (
            await session.execute(
                select(Case.id).where(Case.tenant_id == tenant.id, Case.employee_ref == demo.ref)
            )
        ).scalar_one_or_none()
        if existing is None:
            first_sick_day = today - timedelta(weeks=demo.weeks_ago)
            case = await open_case(
                session,
                tenant.id,
                CaseCreate(
                    employee=Employee(external_ref=demo.ref, display_name=demo.name),
                    first_sick_day=first_sick_day,
                    case_manager=demo.case_manager,
                    flags=demo.flags,
                ),
                today,
            )
            await _play(session, actors, case.id, first_sick_day, demo.steps, today)
            existing = case.id
        case_ids.append(existing)
    return DemoSeed(tenant_id=tenant.id, keys=keys, case_ids=case_ids)


async def _play(
    session: AsyncSession,
    actors: dict[Role, Principal],
    case_id: uuid.UUID,
    first_sick_day: date,
    steps: tuple[Step, ...],
    today: date,
) -> None:
    tracks: dict[str, uuid.UUID] = {}
    manager = actors[Role.case_manager]
    for offset, what, args in steps:
        on = first_sick_day + timedelta(days=offset - 1)
        if what == "start":
            track = await start_track(
                session,
                manager.tenant_id,
                case_id,
                TrackCreate(kind=args, started_on=on, provider=PROVIDER if args == "track_2" else None),
                today,
                14,
            )
            tracks[args] = track.id
        elif what == "move":
            kind, phase = args
            await transition(
                session, manager.tenant_id, tracks[kind], PhaseTransitionCreate(to_phase=phase, on=on), today
            )
        else:
            kind, details = args
            actor = actors[Role.occupational_physician] if what == "physician" else manager
            track_id = tracks["track_1"] if what == "t1" else tracks["track_2"] if what == "t2" else None
            body = ActivityCreate(kind=ActivityKind(kind), occurred_on=on, track_id=track_id, details=details)
            await record_activity(session, actor, case_id, body, today, 14)
