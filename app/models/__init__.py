"""SQLAlchemy tables. Import every model here so Alembic's autogenerate sees the whole schema."""

from app.db import Base
from app.models.activities import Activity
from app.models.audit import AuditEvent
from app.models.calendar import CalendarFeed
from app.models.cases import Case, SicknessPeriod
from app.models.deadlines import StoredDeadline
from app.models.events import DeadlineNotification, OutboxEvent
from app.models.idempotency import IdempotencyRecord
from app.models.medical import ActivityMedicalPart
from app.models.tenants import ApiKey, Tenant
from app.models.tracks import Track, Track2Waiver, TrackPhase
from app.models.webhooks import WebhookDelivery, WebhookEndpoint

__all__ = [
    "Activity",
    "ActivityMedicalPart",
    "ApiKey",
    "AuditEvent",
    "Base",
    "CalendarFeed",
    "Case",
    "DeadlineNotification",
    "IdempotencyRecord",
    "OutboxEvent",
    "SicknessPeriod",
    "StoredDeadline",
    "Tenant",
    "Track",
    "Track2Waiver",
    "TrackPhase",
    "WebhookDelivery",
    "WebhookEndpoint",
]
