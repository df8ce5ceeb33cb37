"""Recording and reading activities. A write locks the case row (the deadlines it refreshes are the
case's), checks placement (A1), role, dates (P6) and details, and stores an `external_id` once (A5)."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from pydantic import ValidationError
from sqlalchemy import ColumnElement, and_, any_, bindparam, insert, or_, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from app.activities.details import counts_for_deadline, details_json, validate_details
from app.activities.schemas import (
    ActivityBatchItem,
    ActivityBatchResult,
    ActivityCreate,
    ActivityRead,
    BatchItemResult,
    MedicalPart,
    RecordedBy,
)
from app.cases.service import get_case
from app.db import attributes, driver_connection
from app.domain import activity_kinds
from app.domain import phases as phase_rules
from app.domain import tracks as track_rules
from app.domain.activity_kinds import ActivityKind, TrackKind, TrackStatus
from app.domain.errors import Conflict, DomainError, InvalidInput, NotFound
from app.events.catalogue import EventType
from app.events.service import emit_many, event_row
from app.http import decode_cursor, encode_cursor
from app.models.activities import Activity
from app.models.cases import Case
from app.models.medical import ActivityMedicalPart
from app.models.tenants import Role
from app.models.tracks import Track, TrackPhase
from app.problems import ApiProblem, forbidden, invalid_input, problem_for
from app.security import Principal
from app.timeline.service import TIMELINE_INPUT_KINDS, refresh_case_deadlines, refresh_deadlines
from app.tracks.service import get_track

# Kinds whose records change the timeline.
TIMELINE_KINDS = frozenset(TIMELINE_INPUT_KINDS)


class CaseSnapshot(Protocol):
    """A case row or ORM object: what an activity write reads of its case."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def first_sick_day(self) -> date: ...
    @property
    def status(self) -> str: ...


def content_hash(body: ActivityCreate) -> str:
    """What "the same content" means for A5: every field the client sent except the external id."""
    canonical = {
        "kind": body.kind.value,
        "occurred_on": body.occurred_on.isoformat(),
        "track_id": str(body.track_id) if body.track_id else None,
        "summary": body.summary,
        "outcome": body.outcome,
        "details": body.details,
        "medical": body.medical.model_dump(exclude_none=True) if body.medical else None,
    }
    return hashlib.sha256(json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def to_read(activity: Any, medical: dict[str, Any] | None = None) -> ActivityRead:
    """From an Activity or a Core row of its columns."""
    """`medical` is passed only when the reader is the occupational physician (A3)."""
    return ActivityRead(
        id=activity.id,
        case_id=activity.case_id,
        track_id=activity.track_id,
        kind=ActivityKind(activity.kind),
        occurred_on=activity.occurred_on,
        summary=activity.summary,
        outcome=activity.outcome,
        details=activity.details,
        medical=MedicalPart.model_validate(medical) if medical is not None else None,
        counts_for_deadline=activity.counts_for_deadline,
        external_id=activity.external_id,
        recorded_by=RecordedBy(key_id=activity.recorded_by_key_id, role=activity.recorded_by_role),
        version=activity.version,
        created_at=activity.created_at,
        updated_at=activity.updated_at,
    )


def normalised_details(kind: ActivityKind, raw: dict[str, Any]) -> Any:
    try:
        return validate_details(kind, raw)
    except ValidationError as exc:
        raise invalid_input(exc.errors(), ("details",), rule="A1") from exc


# The single POST is what scripts call all day: plain SQL on the driver connection (`driver_connection`).
SELECT_BY_EXTERNAL_ID = """
SELECT id, tenant_id, case_id, track_id, kind, occurred_on, summary, outcome, details, counts_for_deadline,
    external_id, content_hash, recorded_by_key_id, recorded_by_role, version, created_at, updated_at
FROM activities WHERE tenant_id = $1 AND external_id = $2
"""
LOCK_CASE = "SELECT id, first_sick_day, status FROM cases WHERE id = $1 AND tenant_id = $2 FOR UPDATE"
# The activity and its activity.recorded event in one round trip.
INSERT_ACTIVITY_WITH_EVENT = """
WITH event AS (
    INSERT INTO outbox_events (id, tenant_id, type, payload) VALUES ($15, $2, $16, $17::jsonb)
)
INSERT INTO activities (id, tenant_id, case_id, track_id, kind, occurred_on, summary, outcome, details,
    counts_for_deadline, external_id, content_hash, recorded_by_key_id, recorded_by_role)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12, $13, $14)
RETURNING id, tenant_id, case_id, track_id, kind, occurred_on, summary, outcome, details, counts_for_deadline,
    external_id, content_hash, recorded_by_key_id, recorded_by_role, version, created_at, updated_at
"""
INSERTED_COLUMNS = (
    "id", "tenant_id", "case_id", "track_id", "kind", "occurred_on", "summary", "outcome", "details",
    "counts_for_deadline", "external_id", "content_hash", "recorded_by_key_id", "recorded_by_role",
)  # fmt: skip


def _activity_row(record: Any) -> Any:
    """A stored activity as read by plain SQL, with attribute access like an ORM row."""
    return attributes(record) if record is not None else None


async def find_by_external_id(session: AsyncSession, tenant_id: uuid.UUID, external_id: str) -> Any:
    """The stored activity row (the hot path of scripts that retry), or None."""
    connection = await driver_connection(session, begin=False)
    return _activity_row(await connection.fetchrow(SELECT_BY_EXTERNAL_ID, tenant_id, external_id))


async def lock_case_for_activity(session: AsyncSession, tenant_id: uuid.UUID, case_id: uuid.UUID) -> Any:
    """Lock the case row (activity writes on one case serialise) and read what the checks need."""
    connection = await driver_connection(session)
    case = await connection.fetchrow(LOCK_CASE, case_id, tenant_id)
    if case is None:
        raise NotFound(f"No case {case_id}.")
    return attributes(case)


async def insert_activity_with_event(session: AsyncSession, row: dict[str, Any]) -> Any:
    event = event_row(row["tenant_id"], EventType.activity_recorded, recorded_payload(row))
    connection = await driver_connection(session)
    values = [row[column] for column in INSERTED_COLUMNS]
    values[INSERTED_COLUMNS.index("details")] = json.dumps(row["details"])
    stored = await connection.fetchrow(
        INSERT_ACTIVITY_WITH_EVENT, *values, event["id"], event["type"], json.dumps(event["payload"])
    )
    return _activity_row(stored)


@dataclass(frozen=True, slots=True)
class Recorded:
    activity: Any  # the stored row: an Activity or a Core row of its columns
    created: bool


def new_activity_row(
    principal: Principal,
    body: ActivityCreate,
    case: CaseSnapshot,
    track: phase_rules.TrackFacts | None,
    track_id: uuid.UUID | None,
    today: date,
    digest: str,
) -> dict[str, Any]:
    """Every check a single POST and a batch item share (A1 placement and details, A3 role, P6 dates),
    and the row to insert. Raises the domain error or problem that refuses the item."""
    kind = body.kind
    facts = activity_kinds.kind_facts(kind)
    if facts.physician_only and not principal.is_physician:
        raise forbidden(f"Only the occupational physician records {kind.value} (A3).")
    if body.medical is not None:
        if not principal.is_physician:
            raise forbidden("Only the occupational physician records a medical part (A3).")
        if not facts.may_carry_medical_part:
            raise InvalidInput(
                f"A {kind.value} carries no medical part; only the physician's own documents do.",
                rule="A3",
                extra={
                    "errors": [{"pointer": "#/medical", "reason": "Not allowed for this kind", "type": "A3"}]
                },
            )
    activity_kinds.check_activity_placement(kind, track.kind if track else None)
    # P6 reads only the first sick day and the track's dates from these snapshots.
    case_dates = track_rules.CaseFacts(
        first_sick_day=case.first_sick_day,
        status=track_rules.CaseStatus(case.status),
        waiting_period_running=True,
    )
    track_rules.check_activity_dates(case_dates, track, body.occurred_on, today)
    details = normalised_details(kind, body.details)
    return {
        "id": uuid.uuid4(),
        "tenant_id": principal.tenant_id,
        "case_id": case.id,
        "track_id": track_id,
        "kind": kind.value,
        "occurred_on": body.occurred_on,
        "summary": body.summary,
        "outcome": body.outcome,
        "details": details_json(details),
        "counts_for_deadline": counts_for_deadline(kind, details, case.first_sick_day),
        "external_id": body.external_id,
        "content_hash": digest,
        "recorded_by_key_id": principal.key_id,
        "recorded_by_role": principal.role.value,
    }


async def record_activity(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    body: ActivityCreate,
    today: date,
    horizon_days: int,
) -> Recorded:
    digest = content_hash(body)
    case = await lock_case_for_activity(session, principal.tenant_id, case_id)
    # Looked up under the case lock: a racing twin has committed by then, or waits for us.
    if body.external_id is not None:
        stored = await find_by_external_id(session, principal.tenant_id, body.external_id)
        if stored is not None:
            return _replay(stored, case_id, digest)
    track = await _track_for(session, principal, case, body)
    if principal.role is Role.coach and (track is None or track.provider != principal.provider):
        raise forbidden("A coach records activities only in the tracks of their own provider.")
    snapshot = (await track_snapshots(session, principal.tenant_id, [track.id]))[track.id] if track else None
    row = new_activity_row(principal, body, case, snapshot, track.id if track else None, today, digest)
    activity = await insert_activity_with_event(session, row)
    await store_medical_parts(session, principal.tenant_id, [(row["id"], body.medical)])
    if body.kind in TIMELINE_KINDS:
        await refresh_case_deadlines(
            session, await get_case(session, principal.tenant_id, case_id), today, horizon_days
        )
    return Recorded(activity, created=True)


def recorded_payload(row: dict[str, Any]) -> dict[str, Any]:
    """activity.recorded: ids, kind and date; never the summary, details or medical part (A3)."""
    return {
        "case_id": row["case_id"],
        "activity_id": row["id"],
        "track_id": row["track_id"],
        "kind": row["kind"],
        "occurred_on": row["occurred_on"],
    }


async def store_medical_parts(
    session: AsyncSession, tenant_id: uuid.UUID, parts: Sequence[tuple[uuid.UUID, MedicalPart | None]]
) -> None:
    rows = [
        {"activity_id": activity_id, "tenant_id": tenant_id, "content": part.model_dump(exclude_none=True)}
        for activity_id, part in parts
        if part is not None
    ]
    if rows:
        await session.execute(insert(ActivityMedicalPart), rows)


async def medical_parts_for(
    session: AsyncSession, principal: Principal, activity_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    """The medical parts of these activities, for the occupational physician; nothing for anyone else."""
    if not principal.is_physician or not activity_ids:
        return {}
    rows = await session.execute(
        select(ActivityMedicalPart.activity_id, ActivityMedicalPart.content).where(
            ActivityMedicalPart.tenant_id == principal.tenant_id,
            ActivityMedicalPart.activity_id.in_(list(activity_ids)),
        )
    )
    return {activity_id: content for activity_id, content in rows.all()}


async def track_snapshots(
    session: AsyncSession, tenant_id: uuid.UUID, track_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, phase_rules.TrackFacts]:
    """Tracks with their current phase (no activities): what P6 and placement checks read."""
    latest = (
        select(TrackPhase.phase, TrackPhase.entered_on)
        .where(TrackPhase.track_id == Track.id)
        .order_by(TrackPhase.position.desc())
        .limit(1)
        .lateral()
    )
    rows = await session.execute(
        select(
            Track.id,
            Track.kind,
            Track.status,
            Track.started_on,
            Track.ended_on,
            latest.c.phase,
            latest.c.entered_on,
        )
        .join(latest, true())
        .where(Track.tenant_id == tenant_id, Track.id.in_(list(track_ids)))
    )
    return {
        row.id: phase_rules.TrackFacts(
            kind=TrackKind(row.kind),
            status=TrackStatus(row.status),
            started_on=row.started_on,
            current_phase=row.phase,
            current_phase_entered_on=row.entered_on,
            ended_on=row.ended_on,
        )
        for row in rows
    }


def _replay(stored: Any, case_id: uuid.UUID, digest: str) -> Recorded:
    if stored.case_id != case_id or stored.content_hash != digest:
        raise Conflict(
            f"external_id {stored.external_id!r} is stored with other content (activity {stored.id}).",
            rule="A5",
            extra={"activity_id": str(stored.id)},
        )
    return Recorded(stored, created=False)


async def _track_for(
    session: AsyncSession, principal: Principal, case: CaseSnapshot, body: ActivityCreate
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
    # Coach keys: only activities of this provider's tracks.
    provider: str | None = None


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
    if filters.provider is not None:
        query = query.where(
            Activity.track_id.in_(
                select(Track.id).where(Track.case_id == case_id, Track.provider == filters.provider)
            )
        )
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


@dataclass(slots=True)
class _Pending:
    index: int
    item: ActivityBatchItem
    digest: str
    row: dict[str, Any]


async def record_batch(
    session: AsyncSession,
    principal: Principal,
    raw_items: list[dict[str, Any]],
    today: date,
    horizon_days: int,
) -> ActivityBatchResult:
    """Many activities across cases with set-based SQL: one locking read of the cases, one of the tracks,
    one of the stored external ids, one multi-row INSERT, and one deadline refresh for the cases whose
    timeline changed. Every item gets the checks of a single POST; a bad item is reported, not fatal."""
    results: list[BatchItemResult | None] = [None] * len(raw_items)

    def fail(index: int, error: DomainError | ApiProblem) -> None:
        results[index] = BatchItemResult(
            index=index, status="error", activity_id=None, problem=problem_for(error)
        )

    items: list[tuple[int, ActivityBatchItem]] = []
    for index, raw in enumerate(raw_items):
        try:
            items.append((index, ActivityBatchItem.model_validate(raw)))
        except ValidationError as exc:
            fail(index, invalid_input(exc.errors(), ("items", index)))

    # Lock the cases in id order (as every batch does): racing batches serialise instead of deadlocking.
    case_ids = sorted({item.case_id for _, item in items})
    cases = {
        case.id: case
        for case in (
            await session.execute(
                select(Case.id, Case.first_sick_day, Case.status)
                .where(Case.tenant_id == principal.tenant_id, in_array(Case.id, case_ids))
                .order_by(Case.id)
                .with_for_update()
            )
        ).all()
    }
    track_ids = {item.track_id for _, item in items if item.track_id is not None}
    tracks = await track_snapshots(session, principal.tenant_id, list(track_ids)) if track_ids else {}
    track_cases = (
        dict(
            (
                await session.execute(select(Track.id, Track.case_id).where(in_array(Track.id, track_ids)))
            ).all()
        )
        if track_ids
        else {}
    )
    external_ids = [item.external_id for _, item in items if item.external_id is not None]
    stored = {
        row.external_id: row
        for row in (
            await session.execute(
                select(Activity.external_id, Activity.id, Activity.case_id, Activity.content_hash).where(
                    Activity.tenant_id == principal.tenant_id, in_array(Activity.external_id, external_ids)
                )
            )
            if external_ids
            else []
        )
    }

    pending: list[_Pending] = []
    first_in_batch: dict[str, _Pending] = {}
    for index, item in items:
        digest = content_hash(item)
        try:
            if item.external_id is not None and item.external_id in stored:
                known = stored[item.external_id]
                _check_same(
                    item.external_id, known.id, known.case_id == item.case_id and known.content_hash == digest
                )
                results[index] = BatchItemResult(
                    index=index, status="duplicate", activity_id=known.id, problem=None
                )
                continue
            if item.external_id is not None and item.external_id in first_in_batch:
                twin = first_in_batch[item.external_id]
                same = twin.item.case_id == item.case_id and twin.digest == digest
                _check_same(item.external_id, twin.row["id"], same)
                results[index] = BatchItemResult(
                    index=index, status="duplicate", activity_id=twin.row["id"], problem=None
                )
                continue
            case = cases.get(item.case_id)
            if case is None:
                raise NotFound(f"No case {item.case_id}.")
            track = None
            if item.track_id is not None:
                track = tracks.get(item.track_id)
                if track is None:
                    raise NotFound(f"No track {item.track_id}.")
                if track_cases[item.track_id] != item.case_id:
                    raise InvalidInput(
                        "The track belongs to another case.",
                        extra={
                            "errors": [
                                {
                                    "pointer": f"#/items/{index}/track_id",
                                    "reason": "Not a track of this case",
                                    "type": "value_error",
                                }
                            ]
                        },
                    )
            row = new_activity_row(principal, item, case, track, item.track_id, today, digest)
        except (DomainError, ApiProblem) as error:
            fail(index, _located(error, index))
            continue
        entry = _Pending(index, item, digest, row)
        pending.append(entry)
        if item.external_id is not None:
            first_in_batch[item.external_id] = entry

    inserted: set[uuid.UUID] = set()
    if pending:
        inserted = await copy_activities(session, [entry.row for entry in pending])
        await store_medical_parts(
            session,
            principal.tenant_id,
            [(entry.row["id"], entry.item.medical) for entry in pending if entry.row["id"] in inserted],
        )
    lost = [entry for entry in pending if entry.row["id"] not in inserted]
    winners: dict[str | None, Any] = {}
    if lost:  # a concurrent writer stored the same external id between our read and our insert
        winners = {
            row.external_id: row
            for row in await session.execute(
                select(Activity.external_id, Activity.id, Activity.case_id, Activity.content_hash).where(
                    Activity.tenant_id == principal.tenant_id,
                    Activity.external_id.in_([entry.item.external_id for entry in lost]),
                )
            )
        }
    await emit_many(
        session,
        (
            event_row(principal.tenant_id, EventType.activity_recorded, recorded_payload(entry.row))
            for entry in pending
            if entry.row["id"] in inserted
        ),
    )
    for entry in pending:
        if entry.row["id"] in inserted:
            results[entry.index] = BatchItemResult(
                index=entry.index, status="created", activity_id=entry.row["id"], problem=None
            )
            continue
        winner = winners[entry.item.external_id or ""]
        if winner.case_id == entry.item.case_id and winner.content_hash == entry.digest:
            results[entry.index] = BatchItemResult(
                index=entry.index, status="duplicate", activity_id=winner.id, problem=None
            )
        else:
            fail(entry.index, _conflict(entry.item.external_id or "", winner.id))

    changed_ids = {
        entry.item.case_id
        for entry in pending
        if entry.row["id"] in inserted and entry.item.kind in TIMELINE_KINDS
    }
    if changed_ids:
        changed = (
            (await session.execute(select(Case).where(in_array(Case.id, sorted(changed_ids)))))
            .scalars()
            .all()
        )
        await refresh_deadlines(session, changed, today, horizon_days)

    final = [result for result in results if result is not None]
    assert len(final) == len(raw_items)
    return ActivityBatchResult(
        results=final,
        created=sum(r.status == "created" for r in final),
        duplicates=sum(r.status == "duplicate" for r in final),
        errors=sum(r.status == "error" for r in final),
    )


def in_array(column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """`column = ANY(:array)`: one bind parameter, where IN (…) would compile thousands."""
    condition: ColumnElement[bool] = column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return condition


COPY_COLUMNS = (
    "id",
    "tenant_id",
    "case_id",
    "track_id",
    "kind",
    "occurred_on",
    "summary",
    "outcome",
    "details",
    "counts_for_deadline",
    "external_id",
    "content_hash",
    "recorded_by_key_id",
    "recorded_by_role",
)


async def copy_activities(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> set[uuid.UUID]:
    """Insert many activities with COPY into a per-connection temporary table and one
    INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING id; returns the ids actually inserted (an
    external id that a concurrent writer stored first is skipped, not an error)."""
    driver = await driver_connection(session)
    await driver.execute(
        "CREATE TEMPORARY TABLE IF NOT EXISTS activity_batch (LIKE activities INCLUDING DEFAULTS) "
        "ON COMMIT DELETE ROWS"
    )
    await driver.copy_records_to_table(
        "activity_batch",
        records=[
            tuple(json.dumps(row[c]) if c == "details" else row[c] for c in COPY_COLUMNS) for row in rows
        ],
        columns=COPY_COLUMNS,
    )
    inserted = await driver.fetch(
        "INSERT INTO activities SELECT * FROM activity_batch "
        "ON CONFLICT (tenant_id, external_id) WHERE external_id IS NOT NULL DO NOTHING RETURNING id"
    )
    await driver.execute("TRUNCATE activity_batch")
    return {record["id"] for record in inserted}


def _conflict(external_id: str, stored_id: uuid.UUID) -> Conflict:
    return Conflict(
        f"external_id {external_id!r} is stored with other content (activity {stored_id}).",
        rule="A5",
        extra={"activity_id": str(stored_id)},
    )


def _check_same(external_id: str, stored_id: uuid.UUID, same: bool) -> None:
    if not same:
        raise _conflict(external_id, stored_id)


def _located(error: DomainError | ApiProblem, index: int) -> DomainError | ApiProblem:
    """Point an item's field errors into the batch (#/details/x -> #/items/3/details/x)."""
    extra = error.extra
    fields = extra.get("errors")
    if isinstance(fields, list):
        extra["errors"] = [
            {
                **field,
                "pointer": field["pointer"]
                if field["pointer"].startswith("#/items/")
                else f"#/items/{index}/" + field["pointer"].removeprefix("#/"),
            }
            for field in fields
        ]
    return error
