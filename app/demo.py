"""Demo data for `poortwachter serve --demo`: a tenant, one key per role, a handful of realistic cases.
Idempotent: a restart reuses the tenant, the keys (kept in a git-ignored file) and the cases."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.cases.schemas import CaseCreate, CaseFlags, Employee
from app.cases.service import open_case
from app.models.cases import Case
from app.models.tenants import Role
from app.tenants.service import create_tenant, get_tenant_by_slug, issue_key, key_is_live

DEMO_TENANT_SLUG = "demo"
DEMO_TENANT_NAME = "Demo Installatietechniek BV"


@dataclass(frozen=True)
class DemoCase:
    ref: str
    name: str
    weeks_ago: int
    case_manager: str
    flags: CaseFlags = field(default_factory=CaseFlags)


DEMO_CASES = (
    DemoCase("DEMO-001", "A. Bakker", 3, "m.jansen@demo.example"),
    DemoCase("DEMO-002", "S. El Amrani", 9, "m.jansen@demo.example"),
    DemoCase("DEMO-003", "P. de Vries", 47, "r.visser@demo.example", CaseFlags(work_accident=True)),
    DemoCase("DEMO-004", "L. Smit", 60, "r.visser@demo.example"),
    DemoCase("DEMO-005", "K. Mulder", 88, "m.jansen@demo.example", CaseFlags(safety_net=True)),
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
            provider = "Demo Re-integratie BV" if role is Role.coach else None
            _, keys[role.value] = await issue_key(
                session, tenant.id, role, f"demo {role.value}", provider=provider
            )

    case_ids = []
    for demo in DEMO_CASES:
        existing = (
            await session.execute(
                select(Case.id).where(Case.tenant_id == tenant.id, Case.employee_ref == demo.ref)
            )
        ).scalar_one_or_none()
        if existing is None:
            case = await open_case(
                session,
                tenant.id,
                CaseCreate(
                    employee=Employee(external_ref=demo.ref, display_name=demo.name),
                    first_sick_day=today - timedelta(weeks=demo.weeks_ago),
                    case_manager=demo.case_manager,
                    flags=demo.flags,
                ),
                today,
            )
            existing = case.id
        case_ids.append(existing)
    return DemoSeed(tenant_id=tenant.id, keys=keys, case_ids=case_ids)
