"""Recording and reading activities. A write locks the case row (the deadlines it refreshes are the
case's), checks placement (A1), role, dates (P6) and details, and stores an `external_id` once (A5)."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.activities.details import counts_for_deadline, details_json, validate_details
from app.activities.schemas import ActivityCreate, ActivityRead, RecordedBy
from app.cases.service import get_case
from app.domain import activity_kinds
from app.domain import tracks as track_rules
from app.domain.activity_kinds import ActivityKind, TrackKind
from app.domain.errors import Conflict, InvalidInput
from app.http import decode_cursor, encode_cursor
from app.models.activities import Activity
from app.models.cases import Case
from app.models.tracks import Track
from app.problems import forbidden
from app.security import Principal
from app.timeline.service import refresh_case_deadlines
from app.tracks.service import case_facts, get_track, track_facts

# Kinds whose records change the timeline (statutory documents and the other inputs it reads).
TIMELINE_KINDS = frozenset(
    kind
    for kind, facts in activity_kinds.ACTIVITY_KINDS.items()
    if facts.satisfies or facts.statutory_document
) | {ActivityKind.WORK_RESUMPTION, ActivityKind.PROGRESS_REPORT}


def content_hash(body: ActivityCreate) -> str:
    """What "the same content" means for A5: every field the client sent except the external id."""
    canonical = {
        "kind": body.kind.value,
        "occurred_on": body.occurred_on.isoformat(),
        "track_id": str(body.track_id) if body.track_id else None,
        "summary": body.summary,
        "outcome": body.outcome,
        "details": body.details,
    }
    return hashlib.sha256(json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def to_read(activity: Activity) -> ActivityRead:
    return ActivityRead(
        id=activity.id,
        case_id=activity.case_id,
        track_id=activity.track_id,
        kind=ActivityKind(activity.kind),
        occurred_on=activity.occurred_on,
        summary=activity.summary,
        outcome=activity.outcome,
        details=activity.details,
        counts_for_deadline=activity.counts_for_deadline,
        external_id=activity.external_id,
        recorded_by=RecordedBy(key_id=activity.recorded_by_key_id, role=activity.recorded_by_role),
        version=activity.version,
        created_at=activity.created_at,
        updated_at=activity.updated_at,
    )


def details_problem(error: ValidationError) -> InvalidInput:
    errors = [
        {
            "pointer": "#/details/"
            + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in err["loc"]),
            "reason": "Unknown field: this API refuses fields it does not define."
            if err["type"] == "extra_forbidden"
            else err["msg"],
            "type": err["type"],
        }
        for err in error.errors()
    ]
    return InvalidInput(
        f"{len(errors)} invalid field{'s' if len(errors) != 1 else ''} in details: "
        + ", ".join(e["pointer"] for e in errors),
        rule="A1",
        extra={"errors": errors},
    )


def normalised_details(kind: ActivityKind, raw: dict[str, Any]) -> Any:
    try:
        return validate_details(kind, raw)
    except ValidationError as exc:
        raise details_problem(exc) from exc


async def find_by_external_id(
    session: AsyncSession, tenant_id: uuid.UUID, external_id: str
) -> Activity | None:
    return (
        await session.execute(
            select(Activity).where(Activity.tenant_id == tenant_id, Activity.external_id == external_id)
        )
    ).scalar_one_or_none()


@dataclass(frozen=True, slots=True)
class Recorded:
    activity: Activity
    created: bool


async def record_activity(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    body: ActivityCreate,
    today: date,
    horizon_days: int,
) -> Recorded:
    digest = content_hash(body)
    if body.external_id is not None:
        stored = await find_by_external_id(session, principal.tenant_id, body.external_id)
        if stored is not None:
            return _replay(stored, case_id, digest)
    case = await get_case(session, principal.tenant_id, case_id, for_update=True)
    if body.external_id is not None:  # a racing twin may have committed while we waited for the lock
        stored = await find_by_external_id(session, principal.tenant_id, body.external_id)
        if stored is not None:
            return _replay(stored, case_id, digest)
    kind = body.kind
    facts = activity_kinds.kind_facts(kind)
    if facts.physician_only and not principal.is_physician:
        raise forbidden(f"Only the occupational physician records {kind.value} (A3).")
    track = await _track_for(session, principal, case, body)
    activity_kinds.check_activity_placement(kind, TrackKind(track.kind) if track else None)
    case_state = await case_facts(session, case, today, horizon_days)
    track_state = await track_facts(session, track) if track is not None else None
    track_rules.check_activity_dates(case_state, track_state, body.occurred_on, today)
    details = normalised_details(kind, body.details)
    activity = Activity(
        id=uuid.uuid4(),
        tenant_id=principal.tenant_id,
        case_id=case.id,
        track_id=track.id if track else None,
        kind=kind.value,
        occurred_on=body.occurred_on,
        summary=body.summary,
        outcome=body.outcome,
        details=details_json(details),
        counts_for_deadline=counts_for_deadline(kind, details, case.first_sick_day),
        external_id=body.external_id,
        content_hash=digest,
        recorded_by_key_id=principal.key_id,
        recorded_by_role=principal.role.value,
    )
    session.add(activity)
    await session.flush()
    if kind in TIMELINE_KINDS:
        await refresh_case_deadlines(session, case, today, horizon_days)
    await session.refresh(activity)
    return Recorded(activity, created=True)


def _replay(stored: Activity, case_id: uuid.UUID, digest: str) -> Recorded:
    if stored.case_id != case_id or stored.content_hash != digest:
        raise Conflict(
            f"external_id {stored.external_id!r} is stored with other content (activity {stored.id}).",
            rule="A5",
            extra={"activity_id": str(stored.id)},
        )
    return Recorded(stored, created=False)


async def _track_for(
    session: AsyncSession, principal: Principal, case: Case, body: ActivityCreate
) -> Track | None:
    if body.track_id is None:
        return None
    track = await get_track(session, principal.tenant_id, body.track_id)
    if track.case_id != case.id:
        raise InvalidInput(
            "The track belongs to another case.",
            extra={
                "errors": [
                    {"pointer": "#/track_id", "reason": "Not a track of this case", "type": "value_error"}
                ]
            },
        )
    return track


async def get_activity(session: AsyncSession, tenant_id: uuid.UUID, activity_id: uuid.UUID) -> Activity:
    from app.domain.errors import NotFound

    activity = (
        await session.execute(
            select(Activity).where(Activity.id == activity_id, Activity.tenant_id == tenant_id)
        )
    ).scalar_one_or_none()
    if activity is None:
        raise NotFound(f"No activity {activity_id}.")
    return activity


@dataclass(frozen=True, slots=True)
class ActivityFilters:
    kinds: tuple[str, ...] = ()
    track_id: uuid.UUID | None = None
    occurred_from: date | None = None
    occurred_to: date | None = None


async def list_activities(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    case_id: uuid.UUID,
    filters: ActivityFilters,
    limit: int,
    cursor: str | None,
) -> tuple[list[Activity], str | None]:
    await get_case(session, tenant_id, case_id)
    query = select(Activity).where(Activity.case_id == case_id, Activity.tenant_id == tenant_id)
    if filters.kinds:
        query = query.where(Activity.kind.in_(filters.kinds))
    if filters.track_id is not None:
        query = query.where(Activity.track_id == filters.track_id)
    if filters.occurred_from is not None:
        query = query.where(Activity.occurred_on >= filters.occurred_from)
    if filters.occurred_to is not None:
        query = query.where(Activity.occurred_on <= filters.occurred_to)
    if cursor is not None:
        position = decode_cursor(cursor, ("occurred_on", "id"))
        after_on, after_id = date.fromisoformat(position["occurred_on"]), uuid.UUID(position["id"])
        query = query.where(
            or_(
                Activity.occurred_on > after_on,
                and_(Activity.occurred_on == after_on, Activity.id > after_id),
            )
        )
    rows = list(
        (await session.execute(query.order_by(Activity.occurred_on, Activity.id).limit(limit + 1))).scalars()
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor({"occurred_on": rows[-1].occurred_on.isoformat(), "id": str(rows[-1].id)})
    return rows, next_cursor
