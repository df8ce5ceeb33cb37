from __future__ import annotations

from fastapi import APIRouter

from app.db import SessionDep
from app.employees import service
from app.employees.schemas import EmployeeExport, ErasureResult
from app.problems import problem_responses
from app.security import PrincipalDep

router = APIRouter(prefix="/employees/{employee_ref}", tags=["data-subject rights"])


@router.get(
    "/export",
    response_model=EmployeeExport,
    responses=problem_responses(401, 403, 404, 422),
    summary="Export everything held about one employee (admin)",
)
async def export_employee(employee_ref: str, session: SessionDep, principal: PrincipalDep) -> EmployeeExport:
    return await service.export(session, principal.tenant_id, employee_ref, medical=principal.is_physician)


@router.post(
    "/erasure",
    response_model=ErasureResult,
    responses=problem_responses(401, 403, 404, 422),
    summary="Erase (pseudonymise) one employee's personal data, keeping the statistics (admin)",
)
async def erase_employee(employee_ref: str, session: SessionDep, principal: PrincipalDep) -> ErasureResult:
    return await service.erase(session, principal.tenant_id, employee_ref)
