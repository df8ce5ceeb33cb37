"""The data set of the load benchmark (`bench/load.py`): 100,000 cases and about 5,000,000 activities,
built in a few minutes with set-based SQL (`INSERT ... SELECT generate_series`: nothing row by row
crosses the wire).

It (re)creates the database `poortwachter_bench_scale` (or reuses it with --reuse when it holds a
complete seed of the same number of cases), migrates it to head and fills it in one transaction:

- one tenant (slug `bench`), case managers spread over 200 names;
- N cases, each with one open sickness period from its first sick day. A third of them (every third
  case) are 380 to 729 days old and have an open Track 2 (started 330 to 399 days after the first sick
  day, at the latest a week ago); the others are 10 to 419 days old. 90% of the cases have an open
  Track 1 from week 8 (or from three days ago). Each track has its phase rows: Track 1 in `assessment`,
  after six weeks in `resumption`; Track 2 in `orientation`, after six weeks in `active_search`;
- the stored `deadlines` of every case, computed here in SQL from the first sick day with the statutory
  offsets of the rule catalogue (`app/domain/catalogue.py`: due at sick-day 7N for "end of week N",
  the 42nd-week notification one day later, the RIV one day after the WIA application), plus the
  recurring action-plan evaluations (every 42 days) and Track 2 progress reports (every 28 days) up to
  the first one in the future. A deadline due in the future is `open`; one already due is `met` (87%),
  `met_late` (10.5%) or still `open`, i.e. overdue (2.5%), chosen by a hash of case and deadline, so
  about a quarter of the cases have an overdue deadline. Track 2's start is met by the track;
- for each met deadline the statutory activity that met it (problem analysis, action plan,
  evaluation, ...; its id in `satisfied_by`), so the service's live timeline mostly agrees with the
  stored rows;
- the rest of the M activities spread evenly over the cases: employee contacts and physician
  consultations on the case, workplace adjustments and coaching in Track 1, job applications, coaching
  and employer contacts in Track 2, each dated between its case's (or track's) start and yesterday.

Every row respects the CHECK constraints and foreign keys, which stay enabled. For speed the secondary
indexes of `activities` and `deadlines` are dropped during the load and built again after it (with
their definitions as read from the catalog), then the database is vacuumed and analyzed.

    . .venv/bin/activate
    python bench/seed_scale.py                        # 100,000 cases, 5,000,000 activities
    python bench/seed_scale.py --cases 10000 --activities 500000
    python bench/seed_scale.py --reuse                # keep a complete seed of the same size
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

from app.domain import catalogue  # noqa: E402
from app.runtime import migrate_to_head  # noqa: E402
from bench.seed import (  # noqa: E402
    DEFAULT_ADMIN_URL,
    TENANT_SLUG,
    database_url,
    issue_key,
    require_loopback,
    seeded_tenant,
)

DEFAULT_DATABASE = "poortwachter_bench_scale"
DEFAULT_CASES = 100_000
DEFAULT_ACTIVITIES = 5_000_000
CASE_MANAGERS = 200
COMPLETE = "Benchmark BV (scale seed complete)"
"""The tenant's name once the seed committed: a reuse accepts only a complete seed."""


@dataclass(frozen=True, slots=True)
class ScaleSeeded:
    database_url: str
    tenant_id: uuid.UUID
    api_key: str
    key_id: uuid.UUID
    case_ids: list[uuid.UUID]
    counts: dict[str, int]
    created: bool
    seconds: float
    steps: list[tuple[str, float]]


# --- the deadlines of the catalogue, as SQL parameters ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FixedDeadline:
    """A deadline at a fixed offset (in days) from the first sick day."""

    code: str
    rule: str
    title: str
    source: str
    due_offset: int
    window_offset: int | None
    kind: str | None
    """The activity kind that meets it (None: met by something else, e.g. Track 2's start)."""


def fixed_deadlines() -> list[FixedDeadline]:
    """The non-recurring deadlines of the catalogue with their offsets: sick-day 7N for "end of week N"
    (offset 7N - 1), the first working day after it approximated by +1, and the RIV one day after the
    WIA application (its fallback anchor)."""
    offsets: dict[str, int] = {}
    rows = []
    for entry in catalogue.DEADLINES:
        due = entry.due
        if due.recurring_days is not None:
            continue
        if due.end_of_week is not None:
            offset = catalogue.last_day_of_week(due.end_of_week) - 1 + (1 if due.next_working_day else 0)
        elif due.fallback_code is not None:
            offset = offsets[due.fallback_code] + due.anchor_days
        else:
            raise SystemExit(f"no offset for deadline {entry.code}")
        offsets[entry.code] = offset
        window = (
            catalogue.first_day_of_week(due.window_from_week) - 1
            if due.window_from_week is not None
            else None
        )
        kind = next((k for k in entry.satisfied_by if k in catalogue.EVENT_KINDS), None)
        rows.append(FixedDeadline(entry.code, entry.rule, entry.title, entry.source, offset, window, kind))
    return rows


def recurring(code: str) -> catalogue.CatalogueEntry:
    return catalogue.BY_CODE[code]


# --- seeding -----------------------------------------------------------------------------------------------


async def prepare_scale_database(
    admin_url: str,
    *,
    cases: int = DEFAULT_CASES,
    activities: int = DEFAULT_ACTIVITIES,
    reuse: bool = False,
    name: str = DEFAULT_DATABASE,
    today: date | None = None,
    log: bool = True,
) -> ScaleSeeded:
    """A migrated, seeded scale database: the existing one when `reuse` finds a complete seed of
    `cases` cases, else a fresh one. Either way a new integration key is issued for this run."""
    require_loopback(admin_url)
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise SystemExit(f"bad database name {name!r}")
    today = today or date.today()
    url = database_url(admin_url, name)
    started = time.perf_counter()
    steps: list[tuple[str, float]] = []
    if reuse and await seeded_tenant(admin_url, name) is not None:
        counts = await count_rows(url)
        if counts.get("complete") and counts["cases"] == cases:
            tenant_id, key_id, secret = await issue_key(url, "bench load", "integration")
            ids = await load_case_ids(url, tenant_id)
            return ScaleSeeded(
                url, tenant_id, secret, key_id, ids, counts, False, time.perf_counter() - started, steps
            )
        if log:
            complete = bool(counts.get("complete"))
            print(f"  {name} holds {counts.get('cases', 0):,} cases (complete: {complete}): seeding again")

    def note(label: str, seconds: float) -> None:
        steps.append((label, seconds))
        if log:
            print(f"  {label:<44}{seconds:>8.1f}s", flush=True)

    admin = await asyncpg.connect(admin_url, timeout=10)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    note("create database", time.perf_counter() - started)
    mark = time.perf_counter()
    await asyncio.to_thread(migrate_to_head, url)  # alembic's env.py runs its own event loop
    note("migrate to head", time.perf_counter() - mark)
    await _fill(url, cases, activities, today, note)
    tenant_id, key_id, secret = await issue_key(url, "bench load", "integration")
    counts = await count_rows(url)
    ids = await load_case_ids(url, tenant_id)
    return ScaleSeeded(
        url, tenant_id, secret, key_id, ids, counts, True, time.perf_counter() - started, steps
    )


PLAN = """
CREATE TEMP TABLE scale_plan (
    n int PRIMARY KEY, id uuid NOT NULL, first_sick_day date NOT NULL,
    track_1_id uuid, track_1_started_on date, track_2_id uuid, track_2_started_on date
) ON COMMIT DROP
"""

FILL_PLAN = """
INSERT INTO scale_plan
SELECT n, gen_random_uuid(), first_sick_day,
       track_1_id, CASE WHEN track_1_id IS NOT NULL THEN first_sick_day + LEAST(55, age - 3) END,
       track_2_id, CASE WHEN track_2_id IS NOT NULL
                        THEN LEAST(first_sick_day + 330 + (n * 31) % 70, $1::date - 7) END
FROM (
    SELECT n, age, $1::date - age AS first_sick_day,
           CASE WHEN n % 10 <> 1 THEN gen_random_uuid() END AS track_1_id,
           CASE WHEN n % 3 = 0 THEN gen_random_uuid() END AS track_2_id
    FROM (
        SELECT g AS n,
               CASE WHEN g % 3 = 0 THEN 380 + (g::bigint * 7919 % 350)::int
                    ELSE 10 + (g::bigint * 7919 % 410)::int END AS age
        FROM generate_series(1, $2::int) AS g
    ) AS aged
) AS planned
"""

CASES = """
INSERT INTO cases (id, tenant_id, employee_ref, employee_display_name, first_sick_day, case_manager, status,
                   created_at, updated_at)
SELECT id, $1, 'emp-' || lpad(n::text, 7, '0'), 'Employee ' || n, first_sick_day,
       'Case manager ' || (1 + (n::bigint * 37) % $2::int), 'open', opened, opened
FROM (
    SELECT *, (first_sick_day + 1)::timestamp AT TIME ZONE 'Europe/Amsterdam'
              + make_interval(secs => 8 * 3600 + n % 36000) AS opened
    FROM scale_plan
) AS p
ORDER BY n
"""

PERIODS = """
INSERT INTO sickness_periods (id, tenant_id, case_id, started_on)
SELECT gen_random_uuid(), $1, id, first_sick_day FROM scale_plan ORDER BY n
"""

TRACKS = """
INSERT INTO tracks (id, tenant_id, case_id, kind, status, started_on, provider, coach)
SELECT track_1_id, $1::uuid, id, 'track_1', 'open', track_1_started_on, NULL, NULL
FROM scale_plan WHERE track_1_id IS NOT NULL
UNION ALL
SELECT track_2_id, $1::uuid, id, 'track_2', 'open', track_2_started_on,
       'Reintegratie ' || (n % 12), 'Coach ' || (n % 40)
FROM scale_plan WHERE track_2_id IS NOT NULL
"""

PHASES = """
INSERT INTO track_phases (id, tenant_id, track_id, phase, position, entered_on, left_on)
SELECT gen_random_uuid(), $1::uuid, track_id, phase, position, entered_on, left_on
FROM (
    SELECT track_id, first_phase AS phase, 0 AS position, started_on AS entered_on,
           CASE WHEN started_on + 42 < $2::date THEN started_on + 42 END AS left_on
    FROM phase_source
    UNION ALL
    SELECT track_id, second_phase, 1, started_on + 42, NULL
    FROM phase_source WHERE started_on + 42 < $2::date
) AS phases
"""

PHASE_SOURCE = """
CREATE TEMP VIEW phase_source AS
SELECT track_1_id AS track_id, track_1_started_on AS started_on,
       'assessment' AS first_phase, 'resumption' AS second_phase
FROM scale_plan WHERE track_1_id IS NOT NULL
UNION ALL
SELECT track_2_id, track_2_started_on, 'orientation', 'active_search'
FROM scale_plan WHERE track_2_id IS NOT NULL
"""

DEADLINE_PLAN = """
CREATE TEMP TABLE scale_deadlines (
    case_id uuid NOT NULL, code text NOT NULL, rule text NOT NULL, title text NOT NULL, occurrence int,
    track_id uuid, due_on date NOT NULL, window_starts_on date, state text NOT NULL, satisfied_on date,
    source text NOT NULL, kind text, activity_id uuid, activity_track_id uuid, satisfied_by text
) ON COMMIT DROP
"""

# Every deadline row of every case: the fixed ones (a cross join with the catalogue's), the recurring
# evaluations and progress reports (generate_series up to the first one in the future). `h` (0..999) is
# a hash of the case and the deadline that picks the state of a deadline already due.
FILL_DEADLINES = """
WITH codes AS (
    SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::int[], $8::text[])
        WITH ORDINALITY AS c(code, rule, title, source, due_offset, window_offset, kind, idx)
),
due AS (
    SELECT p.n, p.id AS case_id, p.first_sick_day, p.track_2_id, p.track_2_started_on,
           c.code, c.rule, c.title, c.source, c.kind, NULL::int AS occurrence, NULL::uuid AS track_id,
           p.first_sick_day + c.due_offset AS due_on, p.first_sick_day + c.window_offset AS window_starts_on,
           (p.n::bigint * 2654435761 + c.idx * 7919) % 1000 AS h
    FROM scale_plan AS p CROSS JOIN codes AS c
    UNION ALL
    SELECT p.n, p.id, p.first_sick_day, p.track_2_id, p.track_2_started_on,
           $9, $10, $11, $12, $13, k, NULL,
           p.first_sick_day + $14::int + $15::int * k, NULL,
           (p.n::bigint * 2654435761 + 500 * 7919 + k * 104729) % 1000
    FROM scale_plan AS p
    CROSS JOIN LATERAL
        generate_series(1, GREATEST(1, ($1::date - p.first_sick_day - $14::int) / $15::int + 1)) AS k
    UNION ALL
    SELECT p.n, p.id, p.first_sick_day, p.track_2_id, p.track_2_started_on,
           $16, $17, $18, $19, $20, k, p.track_2_id,
           p.track_2_started_on + $21::int * k, NULL,
           (p.n::bigint * 2654435761 + 600 * 7919 + k * 104729) % 1000
    FROM scale_plan AS p
    CROSS JOIN LATERAL generate_series(1, GREATEST(1, ($1::date - p.track_2_started_on) / $21::int + 1)) AS k
    WHERE p.track_2_id IS NOT NULL
),
stated AS (
    SELECT *,
           CASE
               WHEN code = 'track_2_start' AND track_2_id IS NOT NULL THEN
                   CASE WHEN track_2_started_on <= due_on THEN 'met' ELSE 'met_late' END
               WHEN due_on >= $1::date OR kind IS NULL THEN 'open'
               WHEN h < 870 THEN 'met'
               WHEN h < 975 AND due_on + 1 < $1::date THEN 'met_late'
               ELSE 'open'
           END AS state
    FROM due
)
INSERT INTO scale_deadlines
SELECT case_id, code, rule, title, occurrence, track_id, due_on, window_starts_on, state,
       CASE
           WHEN code = 'track_2_start' AND state <> 'open' THEN track_2_started_on
           WHEN state = 'met' THEN
               GREATEST(COALESCE(window_starts_on, first_sick_day), due_on - (h % 14)::int)
           WHEN state = 'met_late' THEN LEAST(due_on + 1 + (h % 20)::int, $1::date - 1)
       END,
       source, kind,
       CASE WHEN state <> 'open' AND kind IS NOT NULL THEN gen_random_uuid() END,
       CASE WHEN code = $16 THEN track_2_id END,
       CASE WHEN code = 'track_2_start' AND state <> 'open' THEN track_2_id::text END
FROM stated
"""

DEADLINES = """
INSERT INTO deadlines (id, tenant_id, case_id, code, rule, title, occurrence, track_id, due_on,
                       window_starts_on, state, satisfied_by, satisfied_on, source)
SELECT gen_random_uuid(), $1, case_id, code, rule, title, occurrence, track_id, due_on, window_starts_on,
       state, COALESCE(satisfied_by, activity_id::text), satisfied_on, source
FROM scale_deadlines
"""

STATUTORY_ACTIVITIES = """
INSERT INTO activities (id, tenant_id, case_id, track_id, kind, occurred_on, summary, details,
                        counts_for_deadline, external_id, content_hash, recorded_by_key_id, recorded_by_role)
SELECT activity_id, $1, case_id, activity_track_id, kind, satisfied_on, title, '{}'::jsonb, true, NULL,
       encode(sha256(activity_id::text::bytea), 'hex'), NULL,
       CASE WHEN kind IN ('problem_analysis', 'current_assessment') THEN 'occupational_physician'
            ELSE 'case_manager' END
FROM scale_deadlines
WHERE activity_id IS NOT NULL
"""

# The other activities: activity i belongs to case i % cases + 1; (i / cases) % 10 picks its kind, scope
# and start, so every case gets the same mix.
GENERIC_ACTIVITIES = """
INSERT INTO activities (id, tenant_id, case_id, track_id, kind, occurred_on, summary, details,
                        counts_for_deadline, external_id, content_hash, recorded_by_key_id, recorded_by_role)
SELECT gen_random_uuid(), $1, c.id,
       CASE k.scope WHEN 't1' THEN c.track_1_id WHEN 't2' THEN c.track_2_id END,
       k.kind,
       k.start + ((i::bigint * 40503) % GREATEST(1, ($2::date - 1) - k.start))::int,
       CASE k.kind
           WHEN 'job_application' THEN 'Applied for a vacancy'
           WHEN 'coaching_session' THEN 'Coaching session'
           WHEN 'employer_contact' THEN 'Contacted an employer'
           WHEN 'workplace_adjustment' THEN 'Adjusted the workplace'
           WHEN 'physician_consultation' THEN 'Consulted the occupational physician'
           ELSE 'Phoned about progress'
       END,
       CASE k.kind
           WHEN 'job_application' THEN jsonb_build_object(
               'employer', 'Werkgever ' || (i % 500),
               'vacancy', 'Vacature ' || (i % 997),
               'result', (ARRAY['pending', 'invited', 'rejected'])[1 + i % 3])
           WHEN 'coaching_session' THEN
               jsonb_build_object('coach', 'Coach ' || (c.n % 40), 'topic', 'job search')
           WHEN 'employer_contact' THEN jsonb_build_object('employer', 'Werkgever ' || (i % 500))
           WHEN 'workplace_adjustment' THEN jsonb_build_object('adjustment', 'desk and hours')
           WHEN 'physician_consultation' THEN '{}'::jsonb
           ELSE jsonb_build_object(
               'channel', (ARRAY['phone', 'video', 'in_person', 'email'])[1 + i % 4],
               'initiated_by', 'employer')
       END,
       true, 'seed-' || i, encode(sha256(('seed-' || i)::bytea), 'hex'), $3, 'integration'
FROM generate_series(1, $4::int) AS i
JOIN scale_plan AS c ON c.n = i % $5::int + 1
CROSS JOIN LATERAL (
    SELECT kind, scope,
           CASE scope WHEN 't1' THEN c.track_1_started_on WHEN 't2' THEN c.track_2_started_on
                      ELSE c.first_sick_day END AS start
    FROM (
        SELECT CASE
                   WHEN c.track_2_id IS NOT NULL AND r < 3 THEN 'job_application'
                   WHEN c.track_2_id IS NOT NULL AND r < 5 THEN 'coaching_session'
                   WHEN c.track_2_id IS NOT NULL AND r < 6 THEN 'employer_contact'
                   WHEN c.track_1_id IS NOT NULL AND r < 8 AND r % 2 = 0 THEN 'workplace_adjustment'
                   WHEN c.track_1_id IS NOT NULL AND r < 8 THEN 'coaching_session'
                   WHEN r = 8 THEN 'physician_consultation'
                   ELSE 'employee_contact'
               END AS kind,
               CASE
                   WHEN c.track_2_id IS NOT NULL AND r < 6 THEN 't2'
                   WHEN c.track_1_id IS NOT NULL AND r < 8 THEN 't1'
                   ELSE 'case'
               END AS scope
        FROM (SELECT ((i / $5::int) % 10)::int AS r) AS drawn
    ) AS chosen
) AS k
"""

SECONDARY_INDEXES = """
SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
FROM pg_index AS i
WHERE i.indrelid = $1::regclass
  AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conindid = i.indexrelid)
ORDER BY 1
"""


async def _fill(url: str, cases: int, activities: int, today: date, note: Any) -> None:
    conn = await asyncpg.connect(url, timeout=10, command_timeout=3600)
    try:

        async def step(label: str, sql: str, *args: object) -> int:
            """Run one statement, note its time (and its row count when it wrote rows)."""
            mark = time.perf_counter()
            status: str = await conn.execute(sql, *args)
            rows = int(status.split()[-1]) if status.startswith("INSERT") else 0
            note(f"{label} ({rows:,} rows)" if rows else label, time.perf_counter() - mark)
            return rows

        async with conn.transaction():
            await conn.execute("SET LOCAL maintenance_work_mem = '512MB'")
            await conn.execute("SET LOCAL work_mem = '64MB'")
            tenant_id = await conn.fetchval(
                "INSERT INTO tenants (id, slug, name)"
                " VALUES (gen_random_uuid(), $1, 'Benchmark BV') RETURNING id",
                TENANT_SLUG,
            )
            dropped: list[str] = []
            for table in ("activities", "deadlines"):
                for row in await conn.fetch(SECONDARY_INDEXES, table):
                    await conn.execute(f'DROP INDEX "{row["name"]}"')
                    dropped.append(row["definition"])
            await conn.execute(PLAN)
            await step("plan cases", FILL_PLAN, today, cases)
            await conn.execute("ANALYZE scale_plan")
            await step("cases", CASES, tenant_id, CASE_MANAGERS)
            await step("sickness periods", PERIODS, tenant_id)
            await step("tracks", TRACKS, tenant_id)
            await conn.execute(PHASE_SOURCE)
            await step("track phases", PHASES, tenant_id, today)
            await conn.execute(DEADLINE_PLAN)
            fixed = fixed_deadlines()
            evaluation = recurring("action_plan_evaluation")
            progress = recurring("track_2_progress_report")
            action_plan = next(f for f in fixed if f.code == "action_plan")
            await step(
                "plan deadlines",
                FILL_DEADLINES,
                today,
                [f.code for f in fixed],
                [f.rule for f in fixed],
                [f.title for f in fixed],
                [f.source for f in fixed],
                [f.due_offset for f in fixed],
                [f.window_offset for f in fixed],
                [f.kind for f in fixed],
                evaluation.code,
                evaluation.rule,
                evaluation.title,
                evaluation.source,
                "evaluation",
                action_plan.due_offset,
                catalogue.EVALUATION_INTERVAL_DAYS,
                progress.code,
                progress.rule,
                progress.title,
                progress.source,
                "progress_report",
                catalogue.TRACK_2_PROGRESS_INTERVAL_DAYS,
            )
            await step("deadlines", DEADLINES, tenant_id)
            statutory = await step("statutory activities", STATUTORY_ACTIVITIES, tenant_id)
            generic = max(0, activities - statutory)
            key_id = await conn.fetchval(
                "INSERT INTO api_keys (id, tenant_id, name, role, key_prefix, key_hash)"
                " VALUES (gen_random_uuid(), $1, 'bench seed (no secret)', 'integration', 'pwk_seed', $2)"
                " RETURNING id",
                tenant_id,
                uuid.uuid4().hex * 2,
            )
            await step("other activities", GENERIC_ACTIVITIES, tenant_id, today, key_id, generic, cases)
            for definition in dropped:
                name = definition.split(" INDEX ", 1)[1].split(" ON ", 1)[0]
                await step(f"index {name}", definition)
            await conn.execute("UPDATE tenants SET name = $1 WHERE id = $2", COMPLETE, tenant_id)
        mark = time.perf_counter()
        await conn.execute("VACUUM (ANALYZE)")
        note("vacuum analyze", time.perf_counter() - mark)
    finally:
        await conn.close()


async def count_rows(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url, timeout=10, command_timeout=600)
    try:
        tenant = await conn.fetchrow("SELECT id, name FROM tenants WHERE slug = $1", TENANT_SLUG)
        if tenant is None:
            return {}
        counts: dict[str, int] = {"complete": int(tenant["name"] == COMPLETE)}
        for table in ("cases", "tracks", "track_phases", "deadlines", "activities"):
            counts[table] = await conn.fetchval(f"SELECT count(*) FROM {table}")
        counts["overdue deadlines"] = await conn.fetchval(
            "SELECT count(*) FROM deadlines WHERE state = 'open' AND due_on < current_date"
        )
        counts["cases with an overdue deadline"] = await conn.fetchval(
            "SELECT count(DISTINCT case_id) FROM deadlines WHERE state = 'open' AND due_on < current_date"
        )
        counts["case managers"] = await conn.fetchval("SELECT count(DISTINCT case_manager) FROM cases")
        return counts
    finally:
        await conn.close()


async def load_case_ids(url: str, tenant_id: uuid.UUID) -> list[uuid.UUID]:
    conn = await asyncpg.connect(url, timeout=10)
    try:
        rows = await conn.fetch(
            "SELECT id FROM cases WHERE tenant_id = $1 AND status = 'open' ORDER BY employee_ref", tenant_id
        )
    finally:
        await conn.close()
    return [row["id"] for row in rows]


def print_counts(seeded: ScaleSeeded) -> None:
    what = "seeded" if seeded.created else "reused"
    print(f"{what} {seeded.database_url} in {seeded.seconds:.1f}s")
    for label, count in seeded.counts.items():
        if label != "complete":
            print(f"  {label:<34}{count:>12,}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url", default=DEFAULT_ADMIN_URL, help="admin URL of the PostgreSQL server"
    )
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="name of the benchmark database")
    parser.add_argument("--cases", type=int, default=DEFAULT_CASES)
    parser.add_argument("--activities", type=int, default=DEFAULT_ACTIVITIES)
    parser.add_argument(
        "--reuse", action="store_true", help="keep a complete seed of the same number of cases"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.cases <= 2_000_000 or not 0 <= args.activities <= 50_000_000:
        parser.error("at most 2,000,000 cases and 50,000,000 activities")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    seeded = asyncio.run(
        prepare_scale_database(
            args.database_url,
            cases=args.cases,
            activities=args.activities,
            reuse=args.reuse,
            name=args.database,
        )
    )
    print_counts(seeded)


if __name__ == "__main__":
    main()
