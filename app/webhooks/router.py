from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status

from app.audit.service import set_created_resource
from app.db import SessionDep
from app.http import DEFAULT_PAGE_SIZE, CursorQuery, LimitQuery, location, set_next_link
from app.problems import problem_responses
from app.schemas import Page
from app.security import PrincipalDep
from app.webhooks import service
from app.webhooks.schemas import (
    RedeliveryCreate,
    WebhookDeliveryRead,
    WebhookEndpointCreate,
    WebhookEndpointCreated,
    WebhookEndpointRead,
)

router = APIRouter(prefix="/webhook-endpoints", tags=["webhooks"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookEndpointCreated,
    responses=problem_responses(401, 403, 422),
    summary="Subscribe a URL to events (the signing secret is in this response only)",
    description="The URL must be https on a public address (checked again before every delivery). "
    "Deliveries follow the Standard Webhooks specification: see the README for verifying them.",
)
async def create_webhook_endpoint(
    body: WebhookEndpointCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
) -> WebhookEndpointCreated:
    allow_private = request.app.state.settings.webhooks_allow_private_destinations
    endpoint, secret = await service.create_endpoint(
        session, principal.tenant_id, body, allow_private=allow_private
    )
    set_created_resource(request, "webhook_endpoint", endpoint.id)
    response.headers["Location"] = location(request, f"/api/v1/webhook-endpoints/{endpoint.id}")
    return WebhookEndpointCreated(**service.to_read(endpoint).model_dump(), secret=secret)


@router.get(
    "",
    response_model=Page[WebhookEndpointRead],
    responses=problem_responses(401, 403, 422),
    summary="List webhook endpoints",
)
async def list_webhook_endpoints(session: SessionDep, principal: PrincipalDep) -> Page[WebhookEndpointRead]:
    endpoints = await service.list_endpoints(session, principal.tenant_id)
    return Page[WebhookEndpointRead](items=[service.to_read(e) for e in endpoints], next_cursor=None)


@router.get(
    "/{endpoint_id}",
    response_model=WebhookEndpointRead,
    responses=problem_responses(401, 403, 404, 422),
    summary="Read a webhook endpoint",
)
async def read_webhook_endpoint(
    endpoint_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> WebhookEndpointRead:
    return service.to_read(await service.get_endpoint(session, principal.tenant_id, endpoint_id))


@router.delete(
    "/{endpoint_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 422),
    summary="Delete a webhook endpoint and its delivery log",
)
async def delete_webhook_endpoint(
    endpoint_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    await service.delete_endpoint(session, principal.tenant_id, endpoint_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{endpoint_id}/reactivation",
    response_model=WebhookEndpointRead,
    responses=problem_responses(401, 403, 404, 422),
    summary="Enable a disabled endpoint again; the events that waited are sent",
)
async def reactivate_webhook_endpoint(
    endpoint_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> WebhookEndpointRead:
    return service.to_read(await service.reactivate_endpoint(session, principal.tenant_id, endpoint_id))


@router.get(
    "/{endpoint_id}/deliveries",
    response_model=Page[WebhookDeliveryRead],
    responses=problem_responses(401, 403, 404, 422),
    summary="The endpoint's delivery log (newest first)",
)
async def list_webhook_deliveries(
    endpoint_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    status: Annotated[Literal["pending", "delivered", "failed"] | None, Query()] = None,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
    cursor: CursorQuery = None,
) -> Page[WebhookDeliveryRead]:
    rows, next_cursor = await service.list_deliveries(
        session, principal.tenant_id, endpoint_id, status, limit, cursor
    )
    set_next_link(request, response, next_cursor)
    return Page[WebhookDeliveryRead](
        items=[service.delivery_to_read(row) for row in rows], next_cursor=next_cursor
    )


@router.post(
    "/{endpoint_id}/redeliveries",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=WebhookDeliveryRead,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Send one event to this endpoint again (same webhook-id); 409 while the endpoint is disabled",
)
async def redeliver_webhook_event(
    endpoint_id: uuid.UUID, body: RedeliveryCreate, session: SessionDep, principal: PrincipalDep
) -> WebhookDeliveryRead:
    delivery = await service.redeliver(session, principal.tenant_id, endpoint_id, body.event_id)
    return service.delivery_to_read(delivery)
