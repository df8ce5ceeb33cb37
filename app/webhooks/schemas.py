from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from app.events.catalogue import EventType
from app.schemas import IsoDateTime, ReadModel, StrictModel


class WebhookEndpointCreate(StrictModel):
    url: str = Field(
        min_length=1,
        max_length=2000,
        description="An https URL on a public address. Redirects are not followed.",
        examples=["https://hr.example.com/hooks/poortwachter"],
    )
    event_types: list[EventType] = Field(
        min_length=1,
        description="The event types to receive.",
        examples=[["case.opened", "deadline.overdue"]],
    )
    description: str | None = Field(
        default=None, max_length=500, description="What the endpoint is for (non-personal free text)."
    )


class WebhookEndpointRead(ReadModel):
    id: uuid.UUID
    url: str
    event_types: list[EventType]
    description: str | None
    status: Literal["enabled", "disabled"]
    disabled_at: IsoDateTime | None
    disabled_reason: Literal["gone", "failing"] | None = Field(
        description="gone: the endpoint answered 410 Gone; failing: a delivery failed every retry."
    )
    created_at: IsoDateTime


class WebhookEndpointCreated(WebhookEndpointRead):
    secret: str = Field(
        description="The signing secret (whsec_…) to verify `webhook-signature` with. Shown once.",
        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    )


class WebhookDeliveryRead(ReadModel):
    id: uuid.UUID
    event_id: uuid.UUID = Field(description="The event's id, sent as `webhook-id`.")
    event_type: EventType
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: IsoDateTime | None
    last_attempt_at: IsoDateTime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: IsoDateTime | None
    created_at: IsoDateTime


class RedeliveryCreate(StrictModel):
    event_id: uuid.UUID = Field(description="The event to send to this endpoint again.")
