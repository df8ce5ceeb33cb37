"""The raw ceiling: a minimal FastAPI app on a bare asyncpg pool, one endpoint per hot path.

It does the least each real endpoint must do, so the service's throughput can be read against it in
the same run (these machines drift by 15-25% between runs). Every endpoint first authenticates the
bearer key with one query on `api_keys` by its SHA-256 hash (revoked and expired keys refused), then:

- `POST /api/v1/cases/{case_id}/activities`: checks that the case exists in the key's tenant, INSERTs
  one activity row (content hash, role, key id) and returns it as JSON with 201;
- `GET /api/v1/cases/{case_id}`: the case, its tracks with their current phase (the highest position of
  `track_phases`) and its next 5 open stored deadlines, with the sick day and week as of today;
- `GET /api/v1/cases/{case_id}/timeline`: the case and all its stored deadlines, each with its status
  derived from `due_on` as of today (it reads the stored rows, it does not compute the timeline);
- `GET /api/v1/deadlines?status=...&limit=50`: a page of the tenant's worklist (open deadlines joined
  to their cases) ordered by due date, with a next cursor;
- `GET /api/v1/cases?has_overdue=true&limit=50`: a page of the tenant's cases with an overdue stored
  deadline, ordered by creation, with a next cursor.

No ORM, no pydantic models, no explicit transaction, no timeline or placement rules, no per-kind
validation of `details`, no audit. The benchmarks start it as its own uvicorn process with one worker:

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/poortwachter_bench \\
        python -m uvicorn bench.raw_ceiling:app --port 8099 --no-access-log

It also serves `GET /health/ready`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

POOL_SIZE = int(os.environ.get("RAW_POOL_SIZE", "10"))
ZONE = ZoneInfo("Europe/Amsterdam")  # the service's "today"
HORIZON_DAYS = 14  # the service's default due_soon horizon
PAGE_SIZE, MAX_PAGE_SIZE = 50, 500
NEXT_DEADLINES = 5
WAITING_PERIOD_DAYS = 104 * 7

AUTHENTICATE = """
SELECT id, tenant_id, role FROM api_keys
WHERE key_hash = $1
  AND (revoked_at IS NULL OR revoked_at > now())
  AND (expires_at IS NULL OR expires_at > now())
"""
CASE_EXISTS = "SELECT 1 FROM cases WHERE id = $1 AND tenant_id = $2"
CASE_COLUMNS = """id, employee_ref, employee_display_name, first_sick_day, case_manager, status, closed_on,
closure_reason, version, created_at, updated_at"""
CASE = f"SELECT {CASE_COLUMNS} FROM cases WHERE id = $1 AND tenant_id = $2"
TRACKS = """
SELECT t.id, t.kind, t.status, t.started_on, t.ended_on, t.outcome,
       (SELECT p.phase FROM track_phases AS p WHERE p.track_id = t.id
        ORDER BY p.position DESC LIMIT 1) AS phase
FROM tracks AS t WHERE t.case_id = $1 ORDER BY t.started_on, t.id
"""
NEXT_OPEN_DEADLINES = """
SELECT code, rule, title, occurrence, track_id, due_on, window_starts_on
FROM deadlines WHERE case_id = $1 AND state = 'open' AND due_on IS NOT NULL
ORDER BY due_on, code LIMIT $2
"""
CASE_DEADLINES = """
SELECT code, rule, title, occurrence, track_id, due_on, window_starts_on, state, satisfied_by, satisfied_on,
       source
FROM deadlines WHERE case_id = $1 ORDER BY due_on NULLS LAST, code, occurrence
"""
# The lists' LIMIT is a literal, as the service's (`app.json_sql.page_limit`): with `LIMIT $n` PostgreSQL
# plans the statement anew on every page.
WORKLIST = """
SELECT d.id, d.case_id, c.employee_ref, c.case_manager, d.code, d.rule, d.title, d.occurrence, d.track_id,
       d.due_on, d.window_starts_on, d.state, d.satisfied_by, d.satisfied_on, d.source
FROM deadlines AS d JOIN cases AS c ON c.id = d.case_id
WHERE d.tenant_id = $1 AND {open_only}d.due_on >= $2 AND d.due_on < $3
ORDER BY d.due_on, d.id LIMIT {rows}
"""
OPEN_ONLY = "d.state = 'open' AND "
"""Statuses overdue / due_soon / upcoming: open deadlines due in [$2, $3) (the service's conditions)."""
OVERDUE = (
    "EXISTS (SELECT 1 FROM deadlines AS d WHERE d.case_id = c.id AND d.state = 'open' AND d.due_on < $2)"
)
CASE_LIST = f"""
SELECT {CASE_COLUMNS} FROM cases AS c
WHERE c.tenant_id = $1 AND {{condition}}
ORDER BY c.created_at, c.id LIMIT {{rows}}
"""
CASE_LIST_CONDITIONS = {"true": OVERDUE, "false": "NOT " + OVERDUE, None: "$2::date IS NOT NULL"}
INSERT = """
INSERT INTO activities (id, tenant_id, case_id, track_id, kind, occurred_on, summary, outcome, details,
                        counts_for_deadline, external_id, content_hash, recorded_by_key_id, recorded_by_role)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, true, $10, $11, $12, $13)
RETURNING id, case_id, track_id, kind, occurred_on, summary, outcome, details, counts_for_deadline,
          external_id, recorded_by_key_id, recorded_by_role, version, created_at, updated_at
"""


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    url = os.environ["DATABASE_URL"]
    async with asyncpg.create_pool(
        url, min_size=POOL_SIZE, max_size=POOL_SIZE, init=_init_connection, timeout=5
    ) as pool:
        app.state.pool = pool
        yield


app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)


def _json_default(value: object) -> str:
    isoformat = getattr(value, "isoformat", None)
    return isoformat() if isoformat is not None else str(value)


def _problem(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse(
        {"status": status, "code": code, "detail": detail},
        status_code=status,
        media_type="application/problem+json",
    )


def _content_hash(body: dict[str, Any]) -> str:
    canonical = {
        "kind": body["kind"],
        "occurred_on": body["occurred_on"],
        "track_id": body.get("track_id"),
        "summary": body.get("summary"),
        "outcome": body.get("outcome"),
        "details": body.get("details") or {},
    }
    return hashlib.sha256(json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _json(payload: object, status: int = 200) -> Response:
    return Response(
        json.dumps(payload, default=_json_default, separators=(",", ":")),
        status_code=status,
        media_type="application/json",
    )


def _secret(request: Request) -> str | None:
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    return secret if scheme.lower() == "bearer" and secret else None


async def _authenticate(conn: asyncpg.Connection, secret: str) -> asyncpg.Record | None:
    """The key's row (id, tenant_id, role) in one query, None when unknown, revoked or expired."""
    row: asyncpg.Record | None = await conn.fetchrow(
        AUTHENTICATE, hashlib.sha256(secret.encode()).hexdigest()
    )
    return row


def _today() -> date:
    return datetime.now(ZONE).date()


def _status(state: str, due_on: date | None, as_of: date) -> str:
    if state != "open" or due_on is None:
        return state
    if due_on < as_of:
        return "overdue"
    return "due_soon" if due_on <= as_of + timedelta(days=HORIZON_DAYS) else "upcoming"


def _limit(request: Request) -> int | None:
    try:
        limit = int(request.query_params.get("limit", PAGE_SIZE))
    except ValueError:
        return None
    return limit if 1 <= limit <= MAX_PAGE_SIZE else None


def _cursor(values: dict[str, object]) -> str:
    raw = json.dumps(values, default=_json_default, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@app.get("/health/ready")
async def ready(request: Request) -> dict[str, str]:
    async with request.app.state.pool.acquire() as conn:
        await conn.fetchval("SELECT 1")
    return {"status": "ready"}


@app.post("/api/v1/cases/{case_id}/activities", status_code=201)
async def record_activity(case_id: uuid.UUID, request: Request) -> Response:
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret:
        return _problem(401, "unauthenticated", "Send an API key.")
    try:
        body = json.loads(await request.body())
        kind, occurred_on = str(body["kind"]), date.fromisoformat(body["occurred_on"])
        track_id = uuid.UUID(body["track_id"]) if body.get("track_id") else None
    except (ValueError, KeyError, TypeError):
        return _problem(422, "validation-failed", "Invalid body.")
    async with request.app.state.pool.acquire() as conn:
        key = await conn.fetchrow(AUTHENTICATE, hashlib.sha256(secret.encode()).hexdigest())
        if key is None:
            return _problem(401, "unauthenticated", "The API key is not known.")
        if await conn.fetchval(CASE_EXISTS, case_id, key["tenant_id"]) is None:
            return _problem(404, "not-found", f"No case {case_id}.")
        try:
            row = await conn.fetchrow(
                INSERT,
                uuid.uuid4(),
                key["tenant_id"],
                case_id,
                track_id,
                kind,
                occurred_on,
                body.get("summary"),
                body.get("outcome"),
                body.get("details") or {},
                body.get("external_id"),
                _content_hash(body),
                key["id"],
                key["role"],
            )
        except asyncpg.UniqueViolationError:
            return _problem(409, "conflict", "external_id already stored.")
        except (asyncpg.CheckViolationError, asyncpg.ForeignKeyViolationError) as exc:
            return _problem(422, "validation-failed", type(exc).__name__)
    activity = dict(row)
    activity["recorded_by"] = {
        "key_id": activity.pop("recorded_by_key_id"),
        "role": activity.pop("recorded_by_role"),
    }
    return Response(
        json.dumps(activity, default=_json_default, separators=(",", ":")),
        status_code=201,
        media_type="application/json",
    )


@app.get("/api/v1/cases/{case_id}")
async def read_case(case_id: uuid.UUID, request: Request) -> Response:
    secret = _secret(request)
    if secret is None:
        return _problem(401, "unauthenticated", "Send an API key.")
    as_of = _today()
    async with request.app.state.pool.acquire() as conn:
        key = await _authenticate(conn, secret)
        if key is None:
            return _problem(401, "unauthenticated", "The API key is not known.")
        row = await conn.fetchrow(CASE, case_id, key["tenant_id"])
        if row is None:
            return _problem(404, "not-found", f"No case {case_id}.")
        tracks = await conn.fetch(TRACKS, case_id)
        deadlines = await conn.fetch(NEXT_OPEN_DEADLINES, case_id, NEXT_DEADLINES)
    case = dict(row)
    sick_day = (as_of - case["first_sick_day"]).days + 1
    case.update(
        as_of=as_of,
        sick_day=sick_day,
        week=(sick_day - 1) // 7 + 1,
        waiting_period_ends_on=case["first_sick_day"] + timedelta(days=WAITING_PERIOD_DAYS - 1),
        tracks=[dict(t) for t in tracks],
        next_deadlines=[{**d, "status": _status("open", d["due_on"], as_of)} for d in deadlines],
    )
    return _json(case)


@app.get("/api/v1/cases/{case_id}/timeline")
async def case_timeline(case_id: uuid.UUID, request: Request) -> Response:
    secret = _secret(request)
    if secret is None:
        return _problem(401, "unauthenticated", "Send an API key.")
    as_of = _today()
    async with request.app.state.pool.acquire() as conn:
        key = await _authenticate(conn, secret)
        if key is None:
            return _problem(401, "unauthenticated", "The API key is not known.")
        first_sick_day = await conn.fetchval(
            "SELECT first_sick_day FROM cases WHERE id = $1 AND tenant_id = $2", case_id, key["tenant_id"]
        )
        if first_sick_day is None:
            return _problem(404, "not-found", f"No case {case_id}.")
        deadlines = await conn.fetch(CASE_DEADLINES, case_id)
    sick_day = (as_of - first_sick_day).days + 1
    return _json(
        {
            "case_id": case_id,
            "as_of": as_of,
            "first_sick_day": first_sick_day,
            "sick_day": sick_day,
            "week": (sick_day - 1) // 7 + 1,
            "waiting_period": {"ends_on": first_sick_day + timedelta(days=WAITING_PERIOD_DAYS - 1)},
            "deadlines": [{**dict(d), "status": _status(d["state"], d["due_on"], as_of)} for d in deadlines],
        }
    )


@app.get("/api/v1/deadlines")
async def worklist(request: Request) -> Response:
    secret = _secret(request)
    if secret is None:
        return _problem(401, "unauthenticated", "Send an API key.")
    status, limit = request.query_params.get("status"), _limit(request)
    as_of = _today()
    soon = as_of + timedelta(days=HORIZON_DAYS + 1)
    bounds = {
        "overdue": (date.min, as_of),
        "due_soon": (as_of, soon),
        "upcoming": (soon, date.max),
        None: (date.min, date.max),
    }.get(status)
    if bounds is None or limit is None:
        return _problem(422, "validation-failed", "Unsupported status or limit.")
    sql = WORKLIST.format(open_only=OPEN_ONLY if status else "", rows=limit + 1)
    async with request.app.state.pool.acquire() as conn:
        key = await _authenticate(conn, secret)
        if key is None:
            return _problem(401, "unauthenticated", "The API key is not known.")
        rows = await conn.fetch(sql, key["tenant_id"], *bounds)
    items = [{**dict(r), "status": _status(r["state"], r["due_on"], as_of)} for r in rows[:limit]]
    for item in items:
        del item["state"]
    next_cursor = (
        _cursor({"due_on": items[-1]["due_on"], "id": items[-1]["id"]}) if len(rows) > limit else None
    )
    return _json({"items": items, "next_cursor": next_cursor})


@app.get("/api/v1/cases")
async def list_cases(request: Request) -> Response:
    secret = _secret(request)
    if secret is None:
        return _problem(401, "unauthenticated", "Send an API key.")
    has_overdue, limit = request.query_params.get("has_overdue"), _limit(request)
    if has_overdue not in CASE_LIST_CONDITIONS or limit is None:
        return _problem(422, "validation-failed", "Unsupported has_overdue or limit.")
    sql = CASE_LIST.format(condition=CASE_LIST_CONDITIONS[has_overdue], rows=limit + 1)
    async with request.app.state.pool.acquire() as conn:
        key = await _authenticate(conn, secret)
        if key is None:
            return _problem(401, "unauthenticated", "The API key is not known.")
        rows = await conn.fetch(sql, key["tenant_id"], _today())
    items = [dict(r) for r in rows[:limit]]
    next_cursor = (
        _cursor({"created_at": items[-1]["created_at"], "id": items[-1]["id"]}) if len(rows) > limit else None
    )
    return _json({"items": items, "next_cursor": next_cursor})
