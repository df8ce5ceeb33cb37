from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi import APIRouter, Request, Response, status

from app.api_keys import service
from app.api_keys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead, ApiKeyRotation
from app.audit.service import set_created_resource
from app.db import SessionDep
from app.models.tenants import ApiKey
from app.problems import problem_responses
from app.schemas import Page
from app.security import PrincipalDep

router = APIRouter(prefix="/api-keys", tags=["api keys"])


def created(key: ApiKey, secret: str) -> ApiKeyCreated:
    return ApiKeyCreated(**ApiKeyRead.model_validate(key).model_dump(), key=secret)


@router.get(
    "", response_model=Page[ApiKeyRead], responses=problem_responses(401, 403, 422), summary="List keys"
)
async def list_api_keys(session: SessionDep, principal: PrincipalDep) -> Page[ApiKeyRead]:
    keys = await service.list_keys(session, principal.tenant_id)
    return Page[ApiKeyRead](items=[ApiKeyRead.model_validate(k) for k in keys], next_cursor=None)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    responses=problem_responses(401, 403, 422),
    summary="Issue a key (the secret is in this response only)",
)
async def create_api_key(
    body: ApiKeyCreate, request: Request, session: SessionDep, principal: PrincipalDep
) -> ApiKeyCreated:
    key, secret = await service.create(session, principal.tenant_id, body)
    set_created_resource(request, "api_key", key.id)
    return created(key, secret)


@router.post(
    "/{key_id}/rotation",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    responses=problem_responses(401, 403, 404, 422),
    summary="Rotate a key: a new key now, the old one expires after a grace period",
)
async def rotate_api_key(
    key_id: uuid.UUID, body: ApiKeyRotation, request: Request, session: SessionDep, principal: PrincipalDep
) -> ApiKeyCreated:
    request.app.state.key_cache.forget_all()  # the old key's new expiry applies at once here
    key, secret = await service.rotate(
        session, principal.tenant_id, key_id, timedelta(hours=body.old_key_expires_in_hours)
    )
    return created(key, secret)


@router.delete(
    "/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 422),
    summary="Revoke a key (it stops working at once)",
)
async def revoke_api_key(
    key_id: uuid.UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    await service.revoke(session, principal.tenant_id, key_id)
    request.app.state.key_cache.forget_all()  # revoked keys stop working here at once
    return Response(status_code=status.HTTP_204_NO_CONTENT)
