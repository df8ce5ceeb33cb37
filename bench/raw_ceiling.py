"""The raw ceiling for the single activity POST: a minimal FastAPI app on a bare asyncpg pool.

It does the least the real endpoint must do, so the service's throughput can be read against it in
the same run (these machines drift by 15-25% between runs):

1. authenticate the bearer key with one query on `api_keys` by its SHA-256 hash (revoked and expired
   keys refused);
2. check that the case exists in the key's tenant;
3. INSERT one activity row (content hash, role, key id) and return it as JSON with 201.

No ORM, no pydantic models, no explicit transaction, no timeline or placement rules, no per-kind
validation of `details`. The benchmarks start it as its own uvicorn process with one worker:

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/poortwachter_bench \\
        python -m uvicorn bench.raw_ceiling:app --port 8099 --no-access-log

It serves `POST /api/v1/cases/{case_id}/activities` (the service's path) and `GET /health/ready`.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

POOL_SIZE = int(os.environ.get("RAW_POOL_SIZE", "10"))

AUTHENTICATE = """
SELECT id, tenant_id, role FROM api_keys
WHERE key_hash = $1
  AND (revoked_at IS NULL OR revoked_at > now())
  AND (expires_at IS NULL OR expires_at > now())
"""
CASE_EXISTS = "SELECT 1 FROM cases WHERE id = $1 AND tenant_id = $2"
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
