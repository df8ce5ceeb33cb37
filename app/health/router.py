"""Liveness (the process answers) and readiness (the database answers)."""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from app.problems import problem_response, problem_responses

router = APIRouter(prefix="/health", tags=["operations"])
READY_TIMEOUT_S = 2.0


class HealthStatus(BaseModel):
    status: Literal["ok"]


@router.get("/live", response_model=HealthStatus, summary="The process is up (no database call)")
async def live() -> HealthStatus:
    return HealthStatus(status="ok")


@router.get(
    "/ready",
    response_model=HealthStatus,
    responses=problem_responses(503),
    summary="The database is reachable",
)
async def ready(request: Request) -> HealthStatus | JSONResponse:
    try:
        async with asyncio.timeout(READY_TIMEOUT_S):
            async with request.app.state.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except Exception:
        return problem_response(
            request,
            status=503,
            code="unavailable",
            title="Not ready",
            detail="The database is not reachable.",
            headers={"Retry-After": "2"},
        )
    return HealthStatus(status="ok")
