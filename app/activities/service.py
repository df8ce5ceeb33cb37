"""Recording and reading activities. A write locks the case row (the deadlines it refreshes are the
case's), checks placement (A1), role, dates (P6) and details, and stores an `external_id` once (A5)."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from pydantic import ValidationError
from sqlalchemy import and_, or_, select, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.activities.details import counts_for_deadline, details_json, validate_details
from app.activities.schemas import (
    ActivityBatchItem,
    ActivityBatchResult,
    ActivityCreate,
    ActivityRead,
    BatchItemResult,
    RecordedBy,
)
from app.cases.service import get_case
from app.domain import activity_kinds
from app.domain import phases as phase_rules
from app.domain import tracks as track_rules
from app.domain.activity_kinds import ActivityKind, TrackKind, TrackStatus
from app.domain.errors import Conflict, DomainError, InvalidInput, NotFound
from app.http import decode_cursor, encode_cursor
from app.models.activities import Activity
from app.models.cases import Case
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


def normalised_details(kind: ActivityKind, raw: dict[str, Any]) -> Any:
    try:
        return validate_details(kind, raw)
    except ValidationError as exc:
        raise invalid_input(exc.errors(), ("details",), rule="A1") from exc


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
    if activity_kinds.kind_facts(kind).physician_only and not principal.is_physician:
        raise forbidden(f"Only the occupational physician records {kind.value} (A3).")
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
    if body.external_id is not None:
        stored = await find_by_external_id(session, principal.tenant_id, body.external_id)
        if stored is not None:
            return _replay(stored, case_id, digest)
    case = await get_case(session, principal.tenant_id, case_id, for_update=True)
    if body.external_id is not None:  # a racing twin may have committed while we waited for the lock
        stored = await find_by_external_id(session, principal.tenant_id, body.external_id)
        if stored is not None:
            return _replay(stored, case_id, digest)
    track = await _track_for(session, principal, case, body)
    snapshot = (await track_snapshots(session, principal.tenant_id, [track.id]))[track.id] if track else None
    row = new_activity_row(principal, body, case, snapshot, track.id if track else None, today, digest)
    activity = Activity(**row)
    session.add(activity)
    await session.flush()
    if body.kind in TIMELINE_KINDS:
        await refresh_case_deadlines(session, case, today, horizon_days)
    await session.refresh(activity)
    return Recorded(activity, created=True)


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
                select(Case)
                .where(Case.tenant_id == principal.tenant_id, Case.id.in_(case_ids))
                .order_by(Case.id)
                .with_for_update()
            )
        ).scalars()
    }
    track_ids = {item.track_id for _, item in items if item.track_id is not None}
    tracks = await track_snapshots(session, principal.tenant_id, list(track_ids)) if track_ids else {}
    track_cases = (
        dict(
            (
                await session.execute(select(Track.id, Track.case_id).where(Track.id.in_(list(track_ids))))
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
                    Activity.tenant_id == principal.tenant_id, Activity.external_id.in_(external_ids)
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
        statement = (
            pg_insert(Activity)
            .on_conflict_do_nothing(
                index_elements=["tenant_id", "external_id"], index_where=Activity.external_id.is_not(None)
            )
            .returning(Activity.id)
        )
        inserted = set((await session.execute(statement, [entry.row for entry in pending])).scalars())
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

    changed = {
        entry.item.case_id
        for entry in pending
        if entry.row["id"] in inserted and entry.item.kind in TIMELINE_KINDS
    }
    await refresh_deadlines(session, [cases[case_id] for case_id in sorted(changed)], today, horizon_days)

    final = [result for result in results if result is not None]
    assert len(final) == len(raw_items)
    return ActivityBatchResult(
        results=final,
        created=sum(r.status == "created" for r in final),
        duplicates=sum(r.status == "duplicate" for r in final),
        errors=sum(r.status == "error" for r in final),
    )


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
