"""A benchmark database, created and filled fast with set-based SQL (reused by the benchmarks).

`prepare_database` (re)creates the database `poortwachter_bench` (or reuses it), migrates it to head
with `app.runtime.migrate_to_head` and seeds it inside the server with `INSERT ... SELECT
generate_series`, so nothing row-by-row crosses the wire:

- one tenant (slug `bench`) and an integration API key (only its hash stored, as the service does);
- N cases, first sick days spread over the last two years (10 to 730 days ago), each with one open
  sickness period starting on its first sick day;
- an open Track 2 for every third case (started a year after the first sick day, at the latest a week
  ago) with its `track_phases` row (orientation, position 0);
- M activities spread evenly over the cases: employee contacts on the case, and in cases with a
  Track 2 also job applications (employer, vacancy, result) and coaching sessions in that track,
  each on or after the case's first sick day (the track's start for track kinds) and before today.

Every row respects the schema's CHECK constraints and foreign keys (which stay enabled). A reused
database gets a fresh API key each run; everything else is read back as it is.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from app.runtime import migrate_to_head
from app.security import generate_key, hash_key

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_DATABASE = "poortwachter_bench"
TENANT_SLUG = "bench"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
TRACK_2_SHARE = 3
"""Every TRACK_2_SHARE-th case has an open Track 2."""


@dataclass(frozen=True, slots=True)
class BenchCase:
    id: uuid.UUID
    first_sick_day: date
    track_2_id: uuid.UUID | None
    track_2_started_on: date | None


@dataclass(frozen=True, slots=True)
class Seeded:
    database_url: str
    tenant_id: uuid.UUID
    api_key: str
    key_id: uuid.UUID
    cases: list[BenchCase]
    activities: int
    created: bool
    seconds: float
    steps: list[tuple[str, float]]

    @property
    def track_cases(self) -> list[BenchCase]:
        return [case for case in self.cases if case.track_2_id is not None]


def database_url(admin_url: str, name: str) -> str:
    """The admin URL with its database replaced by `name`."""
    parts = urlsplit(admin_url)
    return urlunsplit(parts._replace(path="/" + name))


def require_loopback(url: str) -> None:
    """The benchmarks load a server hard: refuse anything but this machine."""
    host = urlsplit(url).hostname or ""
    if host not in LOOPBACK_HOSTS:
        raise SystemExit(f"refusing {host!r}: the benchmark only talks to loopback addresses")


async def prepare_database(
    admin_url: str,
    *,
    cases: int,
    activities: int,
    reuse: bool = False,
    name: str = DEFAULT_DATABASE,
    today: date | None = None,
) -> Seeded:
    """A migrated, seeded benchmark database: fresh, or the existing one when `reuse` finds it seeded."""
    require_loopback(admin_url)
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise SystemExit(f"bad database name {name!r}")
    today = today or date.today()
    url = database_url(admin_url, name)
    started = time.perf_counter()
    if reuse and await seeded_tenant(admin_url, name) is not None:
        steps: list[tuple[str, float]] = []
        tenant_id, key_id, secret = await issue_key(url)
        loaded = await _load(url, tenant_id)
        count = await _count_activities(url)
        return Seeded(
            url, tenant_id, secret, key_id, loaded, count, False, time.perf_counter() - started, steps
        )
    steps = []
    admin = await asyncpg.connect(admin_url, timeout=10)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    steps.append(("create database", time.perf_counter() - started))
    mark = time.perf_counter()
    await asyncio.to_thread(migrate_to_head, url)  # alembic's env.py runs its own event loop
    steps.append(("migrate to head", time.perf_counter() - mark))
    tenant_id, key_id, secret = await _fill(url, cases, activities, today, steps)
    loaded = await _load(url, tenant_id)
    return Seeded(
        url, tenant_id, secret, key_id, loaded, activities, True, time.perf_counter() - started, steps
    )


async def seeded_tenant(admin_url: str, name: str) -> uuid.UUID | None:
    """The bench tenant's id when the database exists and is migrated and seeded, else None."""
    admin = await asyncpg.connect(admin_url, timeout=10)
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
    finally:
        await admin.close()
    if not exists:
        return None
    conn = await asyncpg.connect(database_url(admin_url, name), timeout=10)
    try:
        if await conn.fetchval("SELECT to_regclass('public.tenants')") is None:
            return None
        tenant_id: uuid.UUID | None = await conn.fetchval(
            "SELECT id FROM tenants WHERE slug = $1", TENANT_SLUG
        )
        return tenant_id
    finally:
        await conn.close()


async def issue_key(
    url: str, name: str = "bench ingestion", role: str = "integration"
) -> tuple[uuid.UUID, uuid.UUID, str]:
    """A new key for the bench tenant (the secret is only known to this run; only its hash is stored)."""
    secret = generate_key()
    conn = await asyncpg.connect(url, timeout=10)
    try:
        tenant_id = await conn.fetchval("SELECT id FROM tenants WHERE slug = $1", TENANT_SLUG)
        key_id = await conn.fetchval(
            "INSERT INTO api_keys (id, tenant_id, name, role, key_prefix, key_hash)"
            " VALUES (gen_random_uuid(), $1, $2, $3, $4, $5) RETURNING id",
            tenant_id,
            name,
            role,
            secret[:12],
            hash_key(secret),
        )
    finally:
        await conn.close()
    return tenant_id, key_id, secret


async def _fill(
    url: str, cases: int, activities: int, today: date, steps: list[tuple[str, float]]
) -> tuple[uuid.UUID, uuid.UUID, str]:
    secret = generate_key()
    conn = await asyncpg.connect(url, timeout=10)
    try:

        async def step(label: str, sql: str, *args: object) -> None:
            mark = time.perf_counter()
            await conn.execute(sql, *args)
            seconds = time.perf_counter() - mark
            if steps and steps[-1][0] == label:  # several statements of one step
                seconds += steps.pop()[1]
            steps.append((label, seconds))

        async with conn.transaction():
            tenant_id = await conn.fetchval(
                "INSERT INTO tenants (id, slug, name)"
                " VALUES (gen_random_uuid(), $1, 'Benchmark BV') RETURNING id",
                TENANT_SLUG,
            )
            key_id = await conn.fetchval(
                "INSERT INTO api_keys (id, tenant_id, name, role, key_prefix, key_hash)"
                " VALUES (gen_random_uuid(), $1, 'bench ingestion', 'integration', $2, $3) RETURNING id",
                tenant_id,
                secret[:12],
                hash_key(secret),
            )
            # One plan row per case: its number n (activities pick their case by n), dates and track.
            await step(
                "plan cases",
                """
                CREATE TEMP TABLE bench_case_plan (
                    n int PRIMARY KEY, id uuid NOT NULL, first_sick_day date NOT NULL,
                    track_id uuid, track_started_on date
                ) ON COMMIT DROP
                """,
            )
            await step(
                "plan cases",
                """
                INSERT INTO bench_case_plan
                SELECT n, id, first_sick_day, track_id,
                       CASE WHEN track_id IS NOT NULL THEN LEAST(first_sick_day + 365, $1::date - 7) END
                FROM (
                    SELECT g AS n,
                           gen_random_uuid() AS id,
                           $1::date - (10 + (g::bigint * 7919) % 721)::int AS first_sick_day,
                           CASE WHEN g % $3::int = 0 THEN gen_random_uuid() END AS track_id
                    FROM generate_series(1, $2::int) AS g
                ) AS p
                """,
                today,
                cases,
                TRACK_2_SHARE,
            )
            await step("plan cases", "ANALYZE bench_case_plan")
            await step(
                f"{cases:,} cases",
                """
                INSERT INTO cases (id, tenant_id, employee_ref, employee_display_name, first_sick_day,
                                   case_manager, status)
                SELECT id, $1, 'emp-' || n, 'Employee ' || n, first_sick_day,
                       'manager-' || (n % 25), 'open'
                FROM bench_case_plan ORDER BY n
                """,
                tenant_id,
            )
            await step(
                f"{cases:,} sickness periods",
                """
                INSERT INTO sickness_periods (id, tenant_id, case_id, started_on)
                SELECT gen_random_uuid(), $1, id, first_sick_day FROM bench_case_plan ORDER BY n
                """,
                tenant_id,
            )
            await step(
                "tracks and phases",
                """
                WITH t AS (
                    INSERT INTO tracks (id, tenant_id, case_id, kind, status, started_on, provider, coach)
                    SELECT track_id, $1, id, 'track_2', 'open', track_started_on,
                           'Bench Reintegratie BV', 'Coach ' || (n % 40)
                    FROM bench_case_plan WHERE track_id IS NOT NULL ORDER BY n
                    RETURNING id, started_on
                )
                INSERT INTO track_phases (id, tenant_id, track_id, phase, position, entered_on)
                SELECT gen_random_uuid(), $1, id, 'orientation', 0, started_on FROM t
                """,
                tenant_id,
            )
            await step(
                f"{activities:,} activities",
                """
                INSERT INTO activities (id, tenant_id, case_id, track_id, kind, occurred_on, summary,
                                        details, counts_for_deadline, external_id, content_hash,
                                        recorded_by_key_id, recorded_by_role)
                SELECT gen_random_uuid(), $1, c.id,
                       CASE WHEN k.kind = 'employee_contact' THEN NULL ELSE c.track_id END,
                       k.kind,
                       k.start + ((i::bigint * 40503) % GREATEST(1, ($2::date - 1) - k.start))::int,
                       k.summary,
                       CASE k.kind
                           WHEN 'job_application' THEN jsonb_build_object(
                               'employer', 'Werkgever ' || (i % 500),
                               'vacancy', 'Vacature ' || (i % 997),
                               'result', (ARRAY['pending', 'invited', 'rejected'])[1 + i % 3])
                           WHEN 'coaching_session' THEN jsonb_build_object(
                               'coach', 'Coach ' || (c.n % 40), 'topic', 'job search')
                           ELSE jsonb_build_object(
                               'channel', (ARRAY['phone', 'video', 'in_person', 'email'])[1 + i % 4],
                               'initiated_by', 'employer')
                       END,
                       true,
                       'seed-' || i,
                       encode(sha256(('seed-' || i)::bytea), 'hex'),
                       $3, 'integration'
                FROM generate_series(1, $4::int) AS i
                JOIN bench_case_plan AS c ON c.n = i % $5::int + 1
                CROSS JOIN LATERAL (
                    SELECT kind,
                           CASE WHEN kind = 'employee_contact' THEN c.first_sick_day
                                ELSE c.track_started_on END AS start,
                           CASE kind WHEN 'job_application' THEN 'Applied for a vacancy'
                                     WHEN 'coaching_session' THEN 'Coaching on job search'
                                     ELSE 'Phoned about progress' END AS summary
                    FROM (SELECT CASE
                        WHEN c.track_id IS NULL THEN 'employee_contact'
                        WHEN (i / $5::int) % 10 < 4 THEN 'job_application'
                        WHEN (i / $5::int) % 10 < 6 THEN 'coaching_session'
                        ELSE 'employee_contact' END AS kind) AS chosen
                ) AS k
                """,
                tenant_id,
                today,
                key_id,
                activities,
                cases,
            )
        mark = time.perf_counter()
        await conn.execute("VACUUM ANALYZE")
        steps.append(("vacuum analyze", time.perf_counter() - mark))
    finally:
        await conn.close()
    return tenant_id, key_id, secret


async def _load(url: str, tenant_id: uuid.UUID) -> list[BenchCase]:
    conn = await asyncpg.connect(url, timeout=10)
    try:
        rows = await conn.fetch(
            """
            SELECT c.id, c.first_sick_day, t.id AS track_id, t.started_on
            FROM cases AS c
            LEFT JOIN tracks AS t ON t.case_id = c.id AND t.kind = 'track_2' AND t.status = 'open'
            WHERE c.tenant_id = $1 AND c.status = 'open'
            ORDER BY c.employee_ref
            """,
            tenant_id,
        )
    finally:
        await conn.close()
    return [BenchCase(r["id"], r["first_sick_day"], r["track_id"], r["started_on"]) for r in rows]


async def _count_activities(url: str) -> int:
    conn = await asyncpg.connect(url, timeout=10)
    try:
        count: int = await conn.fetchval("SELECT count(*) FROM activities")
        return count
    finally:
        await conn.close()


def latest_occurred_on(case: BenchCase, today: date, in_track: bool) -> date:
    """The latest safe `occurred_on` for a new activity: before today (the service's "today" is in
    Europe/Amsterdam, the machine's may differ by a day) and on or after the case's or track's start."""
    start = case.track_2_started_on if in_track and case.track_2_started_on else case.first_sick_day
    return max(start, today - timedelta(days=2))
