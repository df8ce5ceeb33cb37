"""Webhook endpoints for admins: register (the URL checked against SSRF rules), list, delete,
reactivate; the delivery log and redelivery of one event."""

from __future__ import annotations

import base64
import secrets
import uuid

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.errors import Conflict, InvalidInput, NotFound
from app.http import decode_cursor, encode_cursor, utc_time
from app.ids import new_id
from app.models.webhooks import WebhookDelivery, WebhookEndpoint
from app.webhooks.destinations import DestinationRefused, checked_destination
from app.webhooks.schemas import WebhookDeliveryRead, WebhookEndpointCreate, WebhookEndpointRead

D = WebhookDelivery


def generate_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def to_read(endpoint: WebhookEndpoint) -> WebhookEndpointRead:
    return WebhookEndpointRead(
        id=endpoint.id,
        url=endpoint.url,
        event_types=endpoint.event_types,
        description=endpoint.description,
        status="disabled" if endpoint.disabled_at is not None else "enabled",
        disabled_at=endpoint.disabled_at,
        disabled_reason=endpoint.disabled_reason,
        created_at=endpoint.created_at,
    )


async def create_endpoint(
    session: AsyncSession, tenant_id: uuid.UUID, body: WebhookEndpointCreate, *, allow_private: bool
) -> tuple[WebhookEndpoint, str]:
    try:
        await checked_destination(body.url, allow_private=allow_private)
    except DestinationRefused as exc:
        raise InvalidInput(
            str(exc), extra={"errors": [{"pointer": "#/url", "reason": str(exc), "type": "destination"}]}
        ) from exc
    secret = generate_secret()
    endpoint = WebhookEndpoint(
        id=new_id(),
        tenant_id=tenant_id,
        url=body.url,
        description=body.description,
        event_types=list(dict.fromkeys(event.value for event in body.event_types)),
        secret=secret,
    )
    session.add(endpoint)
    await session.flush()
    await session.refresh(endpoint)
    return endpoint, secret


async def get_endpoint(
    session: AsyncSession, tenant_id: uuid.UUID, endpoint_id: uuid.UUID, *, for_update: bool = False
) -> WebhookEndpoint:
    query = select(WebhookEndpoint).where(
        WebhookEndpoint.id == endpoint_id, WebhookEndpoint.tenant_id == tenant_id
    )
    if for_update:
        query = query.with_for_update()
    endpoint = (await session.execute(query)).scalar_one_or_none()
    if endpoint is None:
        raise NotFound(f"No webhook endpoint {endpoint_id}.")
    return endpoint


async def list_endpoints(session: AsyncSession, tenant_id: uuid.UUID) -> list[WebhookEndpoint]:
    query = (
        select(WebhookEndpoint)
        .where(WebhookEndpoint.tenant_id == tenant_id)
        .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    )
    return list((await session.execute(query)).scalars())


async def delete_endpoint(session: AsyncSession, tenant_id: uuid.UUID, endpoint_id: uuid.UUID) -> None:
    """Its deliveries go with it (pending ones are never sent)."""
    await session.delete(await get_endpoint(session, tenant_id, endpoint_id, for_update=True))
    await session.flush()


async def reactivate_endpoint(
    session: AsyncSession, tenant_id: uuid.UUID, endpoint_id: uuid.UUID
) -> WebhookEndpoint:
    """Enable a disabled endpoint. The deliveries that waited meanwhile are sent now, each with a fresh
    retry schedule."""
    endpoint = await get_endpoint(session, tenant_id, endpoint_id, for_update=True)
    if endpoint.disabled_at is None:
        return endpoint
    endpoint.disabled_at = None
    endpoint.disabled_reason = None
    await session.execute(
        update(D)
        .where(D.endpoint_id == endpoint.id, D.status == "pending")
        .values(attempts=0, next_attempt_at=func.now(), lease_token=None)
        .execution_options(synchronize_session=False)
    )
    await session.flush()
    return endpoint


async def list_deliveries(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[WebhookDelivery], str | None]:
    """Newest first."""
    await get_endpoint(session, tenant_id, endpoint_id)
    query = select(D).where(D.endpoint_id == endpoint_id, D.tenant_id == tenant_id)
    if status is not None:
        query = query.where(D.status == status)
    if cursor is not None:
        position = decode_cursor(cursor, {"created_at": utc_time, "id": uuid.UUID})
        at, after_id = position["created_at"], position["id"]
        query = query.where(or_(D.created_at < at, and_(D.created_at == at, D.id < after_id)))
    rows = list(
        (await session.execute(query.order_by(D.created_at.desc(), D.id.desc()).limit(limit + 1))).scalars()
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor({"created_at": rows[-1].created_at.isoformat(), "id": str(rows[-1].id)})
    return rows, next_cursor


async def redeliver(
    session: AsyncSession, tenant_id: uuid.UUID, endpoint_id: uuid.UUID, event_id: uuid.UUID
) -> WebhookDelivery:
    """Send one event to the endpoint again, whatever became of it before, with the same `webhook-id`
    (receivers that already have it can recognise the repeat)."""
    endpoint = await get_endpoint(session, tenant_id, endpoint_id)
    if endpoint.disabled_at is not None:
        raise Conflict("The endpoint is disabled; reactivate it first.")
    delivery = (
        await session.execute(
            select(D).where(D.endpoint_id == endpoint.id, D.event_id == event_id).with_for_update()
        )
    ).scalar_one_or_none()
    if delivery is None:
        raise NotFound(f"Event {event_id} was never sent to this endpoint.")
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = func.now()
    delivery.lease_token = None  # an attempt still in flight no longer owns it
    delivery.delivered_at = None
    await session.flush()
    await session.refresh(delivery)
    return delivery


def delivery_to_read(delivery: WebhookDelivery) -> WebhookDeliveryRead:
    return WebhookDeliveryRead.model_validate(delivery)
