"""Recording and reading activities. A write locks the case row (the deadlines it refreshes are the
case's), or, for a case activity that changes no deadline, inserts only while the case is as its checks
read it (`records_on_snapshot`); it checks placement (A1), role, dates (P6) and details, and stores an
`external_id` once (A5)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import operator
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import ValidationError
from sqlalchemy import ColumnElement, and_, any_, bindparam, insert, or_, select
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
from app.audit import service as audit
from app.cases.service import get_case
from app.db import attributes, closing_connection, driver_connection
from app.domain import activity_kinds, catalogue
from app.domain import phases as phase_rules
from app.domain import tracks as track_rules
from app.domain.activity_kinds import ActivityKind, TrackKind, TrackStatus
from app.domain.errors import Conflict, DomainError, InvalidInput, NotFound
from app.events.catalogue import EventType
from app.events.service import event_row
from app.http import decode_cursor, encode_cursor
from app.ids import new_id, uuid7_native
from app.models.activities import Activity
from app.models.cases import Case
from app.models.medical import ActivityMedicalPart
from app.models.tenants import Role
from app.models.tracks import Track
from app.problems import ApiProblem, forbidden, invalid_input, problem_for
from app.schemas import NUL_CHECKED
from app.security import Principal
from app.timeline.service import refresh_case_deadlines, refresh_deadlines

if TYPE_CHECKING:
    import asyncpg

# Kinds whose records change the timeline.
TIMELINE_KINDS = frozenset(catalogue.TIMELINE_INPUT_KINDS)


class CaseSnapshot(Protocol):
    """A case row or ORM object: what an activity write reads of its case."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def first_sick_day(self) -> date: ...
    @property
    def status(self) -> str: ...


# json.dumps with these options builds an encoder per call: a batch hashes thousands of items.
_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


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
    return hashlib.sha256(_CANONICAL_JSON.encode(canonical).encode()).hexdigest()


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
# A batch's cases, locked in id order in one statement, so racing batches queue instead of deadlocking. A
# batch with a kind the timeline reads refreshes its cases' deadlines, so it takes them FOR UPDATE; any
# other batch takes them FOR SHARE: that still holds off a change to a case (closing it, another first
# sick day) and a single POST under the lock, but lets such batches (and single POSTs without the lock)
# on the same cases run side by side (racing inserts of one external id meet in its unique index: ON
# CONFLICT in `INSERT_BATCH_WITH_EVENTS`).
LOCK_CASES = {
    mode: f"""
SELECT id, first_sick_day, status FROM cases WHERE tenant_id = $1 AND id = ANY($2::uuid[])
ORDER BY id FOR {mode}
"""  # noqa: S608 (one of two fixed lock modes)
    for mode in ("UPDATE", "SHARE")
}
STORED_EXTERNAL_IDS = """
SELECT external_id, id, case_id, content_hash FROM activities
WHERE tenant_id = $1 AND external_id = ANY($2::text[])
"""
INSERTED_COLUMNS = (
    "id", "tenant_id", "case_id", "track_id", "kind", "occurred_on", "summary", "outcome", "details",
    "counts_for_deadline", "external_id", "content_hash", "recorded_by_key_id", "recorded_by_role",
)  # fmt: skip
_INSERTED_TYPES = (
    "uuid", "uuid", "uuid", "uuid", "varchar", "date", "text", "text", "jsonb", "boolean", "varchar",
    "varchar", "uuid", "varchar",
)  # fmt: skip
_ACTIVITY_PARAMETERS = ", ".join(f"${n}::{type_}" for n, type_ in enumerate(_INSERTED_TYPES, start=1))


def _activity_and_event(rows: str, before: str = "") -> str:
    """The activity (`$1`…`$14`, in INSERTED_COLUMNS order) and its activity.recorded event (`$15`…`$17`)
    in one statement, the activity inserted from `rows` (after the CTEs in `before`). An external id
    already stored (by a twin that committed while this request waited, or on another case) inserts
    nothing: `inserted` is empty, and the caller answers with the stored activity (A5)."""
    return f"""
WITH {before}inserted AS (
    INSERT INTO activities ({", ".join(INSERTED_COLUMNS)})
    {rows}
    ON CONFLICT (tenant_id, external_id) WHERE external_id IS NOT NULL DO NOTHING
    RETURNING {", ".join(INSERTED_COLUMNS)}, version, created_at, updated_at
), event AS (
    INSERT INTO outbox_events (id, tenant_id, type, payload) SELECT $15, $2, $16, $17::jsonb FROM inserted
)"""  # noqa: S608 (fixed fragments of this module)


_UNDER_LOCK = _activity_and_event(f"VALUES ({_ACTIVITY_PARAMETERS})")
INSERT_ACTIVITY_WITH_EVENT = _UNDER_LOCK + "\nSELECT * FROM inserted"
# The same with the request's audit entry (`audit.take_success_entry`): one round trip fewer.
INSERT_ACTIVITY_WITH_EVENT_AND_AUDIT = (
    _UNDER_LOCK + ", audit_entry AS (" + audit.insert_event_statement(18) + ")\nSELECT * FROM inserted"
)

# An activity recorded without the case lock (`records_on_snapshot`) was checked against the case as read
# before ($18 its first sick day, $19 its status). This statement share-locks the case and inserts only
# while the case still holds both: a case closed or moved meanwhile inserts nothing, and `unchanged` says
# so. After waiting for another writer's lock, READ COMMITTED checks the guard against the row as that
# writer committed it. Without a transaction open the statement commits itself: two round trips in all.
READ_CASE = "SELECT id, first_sick_day, status FROM cases WHERE id = $1 AND tenant_id = $2"
_IF_UNCHANGED = _activity_and_event(
    f"SELECT {_ACTIVITY_PARAMETERS} FROM unchanged",  # noqa: S608 (parameters, no values)
    before="unchanged AS (\n    SELECT id FROM cases WHERE id = $3 AND tenant_id = $2"
    " AND first_sick_day = $18::date AND status = $19::varchar FOR SHARE\n), ",
)
_UNCHANGED_AND_INSERTED = (
    "\nSELECT EXISTS (SELECT FROM unchanged) AS unchanged, inserted.*"
    " FROM (VALUES (true)) AS answer LEFT JOIN inserted ON true"
)
INSERT_ACTIVITY_IF_UNCHANGED = _IF_UNCHANGED + _UNCHANGED_AND_INSERTED
# With the audit entry, for an inserted activity only: a replay's entry comes later (`record`).
INSERT_ACTIVITY_IF_UNCHANGED_WITH_AUDIT = (
    _IF_UNCHANGED
    + ", audit_entry AS ("
    + audit.insert_event_statement(20, when="FROM inserted")
    + ")"
    + _UNCHANGED_AND_INSERTED
)


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


def _insert_values(row: dict[str, Any]) -> list[Any]:
    """The parameters of `_activity_and_event`: the activity's and its event's."""
    event = event_row(row["tenant_id"], EventType.activity_recorded, recorded_payload(row))
    values = [row[column] for column in INSERTED_COLUMNS]
    return [*values, event["id"], event["type"], json.dumps(event["payload"])]


async def insert_activity_with_event(session: AsyncSession, row: dict[str, Any]) -> Any:
    """The stored row, or None when the row's external id is stored already (nothing inserted). It also
    inserts the request's audit entry, in the same transaction (`audit.take_success_entry`)."""
    connection = await driver_connection(session)
    values = _insert_values(row)
    entry = await audit.take_success_entry(session)
    if entry is None:
        stored = await connection.fetchrow(INSERT_ACTIVITY_WITH_EVENT, *values)
    else:
        stored = await connection.fetchrow(INSERT_ACTIVITY_WITH_EVENT_AND_AUDIT, *values, *entry)
    return _activity_row(stored)


_CHANGED = object()  # `insert_activity_if_unchanged`: the case is not as read


async def insert_activity_if_unchanged(
    session: AsyncSession, connection: asyncpg.Connection, row: dict[str, Any], case: CaseSnapshot
) -> Any:
    """`insert_activity_with_event` for an activity checked against `case` as read without a lock, on
    `connection` (`closing_connection`): the stored row; None when its external id is stored already;
    `_CHANGED` (nothing inserted) when the case no longer holds the first sick day and status the checks
    read."""
    values = [*_insert_values(row), case.first_sick_day, case.status]
    entry = await audit.take_success_entry(session)
    if entry is None:
        answer = await connection.fetchrow(INSERT_ACTIVITY_IF_UNCHANGED, *values)
    else:
        answer = await connection.fetchrow(INSERT_ACTIVITY_IF_UNCHANGED_WITH_AUDIT, *values, *entry)
    if answer["id"] is None:
        audit.give_back_success_entry(session)  # inserted for the activity only; there is none
        return None if answer["unchanged"] else _CHANGED
    return attributes({column: value for column, value in answer.items() if column != "unchanged"})


@dataclass(frozen=True, slots=True)
class Recorded:
    activity: Any  # the stored row: an Activity or a Core row of its columns
    created: bool
    case: Any = None  # the case snapshot it was checked against, without the lock (`CaseSnapshots`)


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
        "id": new_id(),
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


def records_on_snapshot(principal: Principal, body: ActivityCreate) -> bool:
    """Whether a POST may be checked against the case as read without a lock, and then inserted only if
    the case is still that (`insert_activity_if_unchanged`): an activity of the case itself (a track's
    phase is in rows the guard does not lock), without a medical part, of a kind that changes no deadline
    (no refresh to serialise), by a key that is not a coach's (coaches record in their own tracks only)."""
    return (
        body.track_id is None
        and body.medical is None
        and body.kind not in TIMELINE_KINDS
        and principal.role is not Role.coach
    )


class CaseSnapshots:
    """The first sick day and status of cases as this process last read them for an activity POST, per
    tenant and case: a hit spares the POST its read of the case. Never trusted alone: the insert's guard
    checks both values on the locked row (`insert_activity_if_unchanged`), and a POST that a snapshot
    would refuse, or whose guard fails, is checked again on a fresh read. Bounded: when full it starts
    afresh."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._entries: dict[tuple[uuid.UUID, uuid.UUID], Any] = {}

    def get(self, tenant_id: uuid.UUID, case_id: uuid.UUID) -> Any:
        return self._entries.get((tenant_id, case_id))

    def put(self, tenant_id: uuid.UUID, case_id: uuid.UUID, case: Any) -> None:
        if len(self._entries) >= self.capacity:
            self._entries.clear()
        self._entries[(tenant_id, case_id)] = case

    def forget(self, tenant_id: uuid.UUID, case_id: uuid.UUID) -> None:
        self._entries.pop((tenant_id, case_id), None)


async def record_activity(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    body: ActivityCreate,
    today: date,
    horizon_days: int,
    snapshots: CaseSnapshots | None = None,
) -> Recorded:
    digest = content_hash(body)
    if records_on_snapshot(principal, body):
        attempt = (principal, case_id, body, today, digest)
        cached = snapshots.get(principal.tenant_id, case_id) if snapshots is not None else None
        recorded = await _record_on_snapshot(session, *attempt, cached)
        if recorded is None and cached is not None and snapshots is not None:
            snapshots.forget(principal.tenant_id, case_id)  # stale: once more on a fresh read
            recorded = await _record_on_snapshot(session, *attempt, None)
        if recorded is not None:
            if cached is None and snapshots is not None and recorded.case is not None:
                snapshots.put(principal.tenant_id, case_id, recorded.case)
            return recorded
    case = await lock_case_for_activity(session, principal.tenant_id, case_id)
    try:
        track = None
        if body.track_id is not None:
            tracks = await track_snapshots(session, principal.tenant_id, [body.track_id])
            track = track_of_case(tracks, body.track_id, case.id)
        if principal.role is Role.coach and (track is None or track.provider != principal.provider):
            raise forbidden("A coach records activities only in the tracks of their own provider.")
        facts = track.facts if track is not None else None
        row = new_activity_row(principal, body, case, facts, body.track_id, today, digest)
    except (DomainError, ApiProblem) as refusal:
        return await _replay_unless_new(session, principal, body, case_id, digest, refusal)
    activity = await insert_activity_with_event(session, row)
    if activity is None:
        return await _replay_of_stored(session, principal, body, case_id, digest)
    await store_medical_parts(session, principal.tenant_id, [(row["id"], body.medical)])
    if body.kind in TIMELINE_KINDS:
        await refresh_case_deadlines(
            session, await get_case(session, principal.tenant_id, case_id), today, horizon_days
        )
    return Recorded(activity, created=True)


async def _record_on_snapshot(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    body: ActivityCreate,
    today: date,
    digest: str,
    cached: Any,
) -> Recorded | None:
    """`record_activity` without the case lock (`records_on_snapshot`), checked against the `cached`
    snapshot of the case or, without one, a fresh read. None when the case is not as the snapshot has it
    (or a cached snapshot would refuse the activity): the caller tries a fresh read, then the lock."""
    # The case read and the insert commit themselves: on a connection held for these two statements only.
    async with closing_connection(session) as connection:
        case = cached
        if case is None:
            snapshot = await connection.fetchrow(READ_CASE, case_id, principal.tenant_id)
            if snapshot is None:
                raise NotFound(f"No case {case_id}.")
            case = attributes(snapshot)
        refused: DomainError | ApiProblem | None = None
        try:
            row = new_activity_row(principal, body, case, None, None, today, digest)
        except (DomainError, ApiProblem) as refusal:
            refused = refusal
        else:
            activity = await insert_activity_if_unchanged(session, connection, row, case)
    if refused is not None:
        if cached is not None:
            return None  # a refusal rests on a fresh read only
        return await _replay_unless_new(session, principal, body, case_id, digest, refused)
    if activity is _CHANGED:
        return None
    if activity is None:
        return await _replay_of_stored(session, principal, body, case_id, digest)
    return Recorded(activity, created=True, case=case)


async def _replay_unless_new(
    session: AsyncSession,
    principal: Principal,
    body: ActivityCreate,
    case_id: uuid.UUID,
    digest: str,
    refusal: DomainError | ApiProblem,
) -> Recorded:
    """A retry of a stored activity answers with it (A5), even where the checks would refuse it now;
    a new one gets the checks' `refusal`."""
    if body.external_id is not None:
        stored = await find_by_external_id(session, principal.tenant_id, body.external_id)
        if stored is not None:
            return _replay(stored, case_id, digest)
    raise refusal


async def _replay_of_stored(
    session: AsyncSession, principal: Principal, body: ActivityCreate, case_id: uuid.UUID, digest: str
) -> Recorded:
    """The insert found the external id stored: the lookup runs only on this rare path."""
    stored = await find_by_external_id(session, principal.tenant_id, body.external_id or "")
    if stored is None:  # stored and erased again since the insert: the client may retry
        raise Conflict(f"external_id {body.external_id!r} changed while this request ran.", rule="A5")
    return _replay(stored, case_id, digest)


def recorded_payload(row: dict[str, Any]) -> dict[str, Any]:
    """activity.recorded: ids, kind and date; never the summary, details or medical part (A3). A batch
    builds the same payload in SQL (`INSERT_BATCH_WITH_EVENTS`)."""
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


TRACK_SNAPSHOTS = """
SELECT t.id, t.case_id, t.provider, t.kind, t.status, t.started_on, t.ended_on, p.phase, p.entered_on
FROM tracks t
CROSS JOIN LATERAL (
    SELECT phase, entered_on FROM track_phases WHERE track_id = t.id ORDER BY position DESC LIMIT 1
) p
WHERE t.tenant_id = $1 AND t.id = ANY($2::uuid[])
"""


@dataclass(frozen=True, slots=True)
class TrackSnapshot:
    case_id: uuid.UUID
    provider: str | None
    facts: phase_rules.TrackFacts


async def track_snapshots(
    session: AsyncSession, tenant_id: uuid.UUID, track_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, TrackSnapshot]:
    """The tenant's tracks among these, with their case and current phase (no activities): what P6 and
    the placement checks read."""
    connection = await driver_connection(session, begin=False)
    return {
        row["id"]: TrackSnapshot(
            case_id=row["case_id"],
            provider=row["provider"],
            facts=phase_rules.TrackFacts(
                kind=TrackKind(row["kind"]),
                status=TrackStatus(row["status"]),
                started_on=row["started_on"],
                current_phase=row["phase"],
                current_phase_entered_on=row["entered_on"],
                ended_on=row["ended_on"],
            ),
        )
        for row in await connection.fetch(TRACK_SNAPSHOTS, tenant_id, list(track_ids))
    }


def track_of_case(
    tracks: Mapping[uuid.UUID, TrackSnapshot], track_id: uuid.UUID, case_id: uuid.UUID
) -> TrackSnapshot:
    """The item's track, which must be one of the tenant's and of the item's case (a batch points the
    error into its item: `_located`)."""
    track = tracks.get(track_id)
    if track is None:
        raise NotFound(f"No track {track_id}.")
    if track.case_id != case_id:
        raise InvalidInput(
            "The track belongs to another case.",
            extra={
                "errors": [
                    {"pointer": "#/track_id", "reason": "Not a track of this case", "type": "value_error"}
                ]
            },
        )
    return track


def _replay(stored: Any, case_id: uuid.UUID, digest: str) -> Recorded:
    if stored.case_id != case_id or stored.content_hash != digest:
        raise Conflict(
            f"external_id {stored.external_id!r} is stored with other content (activity {stored.id}).",
            rule="A5",
            extra={"activity_id": str(stored.id)},
        )
    return Recorded(stored, created=False)


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
        position = decode_cursor(cursor, {"occurred_on": date.fromisoformat, "id": uuid.UUID})
        after_on, after_id = position["occurred_on"], position["id"]
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
    one of the stored external ids, a COPY and an INSERT of the activities with their events per chunk of
    INSERT_CHUNK (`PipelinedInsert`), and one deadline refresh for the cases whose timeline changed. Every
    item gets the checks of a single POST; a bad item is reported, not fatal. `raw_items` are a validated
    ActivityBatch's items, so they have been walked for NUL characters with it."""
    # Results are built with model_construct: every value is made here, of its declared type, and
    # validating thousands of them again costs more than the check of an item.
    results: list[BatchItemResult | None] = [None] * len(raw_items)

    def fail(index: int, error: DomainError | ApiProblem) -> None:
        results[index] = BatchItemResult.model_construct(
            index=index, status="error", activity_id=None, problem=problem_for(error)
        )

    items: list[tuple[int, ActivityBatchItem]] = []
    for index, raw in enumerate(raw_items):
        try:
            items.append((index, ActivityBatchItem.model_validate(raw, context=NUL_CHECKED)))
        except ValidationError as exc:
            fail(index, invalid_input(exc.errors(), ("items", index)))

    connection = await driver_connection(session)
    case_ids = list({item.case_id for _, item in items})  # LOCK_CASES locks them in id order
    lock_mode = "UPDATE" if any(item.kind in TIMELINE_KINDS for _, item in items) else "SHARE"
    cases = {
        row["id"]: attributes(row)
        for row in await connection.fetch(LOCK_CASES[lock_mode], principal.tenant_id, case_ids)
    }
    track_ids = list({item.track_id for _, item in items if item.track_id is not None})
    tracks = await track_snapshots(session, principal.tenant_id, track_ids) if track_ids else {}
    external_ids = [item.external_id for _, item in items if item.external_id is not None]
    stored = (
        {
            row["external_id"]: attributes(row)
            for row in await connection.fetch(STORED_EXTERNAL_IDS, principal.tenant_id, external_ids)
        }
        if external_ids
        else {}
    )

    pending: list[_Pending] = []
    first_in_batch: dict[str, _Pending] = {}

    def check(index: int, item: ActivityBatchItem) -> _Pending | None:
        """The item to insert, or None when its result is settled already (a duplicate or a refusal)."""
        digest = content_hash(item)
        try:
            if item.external_id is not None and item.external_id in stored:
                known = stored[item.external_id]
                same = known.case_id == item.case_id and known.content_hash == digest
                _check_same(item.external_id, known.id, same)
                results[index] = BatchItemResult.model_construct(
                    index=index, status="duplicate", activity_id=known.id, problem=None
                )
                return None
            if item.external_id is not None and item.external_id in first_in_batch:
                twin = first_in_batch[item.external_id]
                same = twin.item.case_id == item.case_id and twin.digest == digest
                _check_same(item.external_id, twin.row["id"], same)
                results[index] = BatchItemResult.model_construct(
                    index=index, status="duplicate", activity_id=twin.row["id"], problem=None
                )
                return None
            case = cases.get(item.case_id)
            if case is None:
                raise NotFound(f"No case {item.case_id}.")
            track = None
            if item.track_id is not None:
                track = track_of_case(tracks, item.track_id, item.case_id).facts
            row = new_activity_row(principal, item, case, track, item.track_id, today, digest)
        except (DomainError, ApiProblem) as error:
            fail(index, _located(error, index))
            return None
        entry = _Pending(index, item, digest, row)
        if item.external_id is not None:
            first_in_batch[item.external_id] = entry
        return entry

    writer = PipelinedInsert(connection)
    try:
        unsent: list[dict[str, Any]] = []
        for index, item in items:
            if (entry := check(index, item)) is None:
                continue
            pending.append(entry)
            unsent.append(entry.row)
            if len(unsent) == INSERT_CHUNK:
                await writer.send(unsent)
                unsent = []
        if unsent:
            await writer.send(unsent)
        inserted = await writer.finish()
    except BaseException:
        await writer.abandon()
        raise

    # Usually every row went in: then no id is looked up per item (uuid.UUID hashes in Python).
    if len(inserted) == len(pending):
        stored_now, lost = pending, []
    else:
        stored_now = [entry for entry in pending if entry.row["id"] in inserted]
        lost = [entry for entry in pending if entry.row["id"] not in inserted]
    await store_medical_parts(
        session, principal.tenant_id, [(entry.row["id"], entry.item.medical) for entry in stored_now]
    )
    for entry in stored_now:
        results[entry.index] = BatchItemResult.model_construct(
            index=entry.index, status="created", activity_id=entry.row["id"], problem=None
        )
    if lost:  # a concurrent writer stored the same external id between our read and our insert
        lost_ids = [entry.item.external_id for entry in lost]
        winners = {
            row["external_id"]: attributes(row)
            for row in await connection.fetch(STORED_EXTERNAL_IDS, principal.tenant_id, lost_ids)
        }
        for entry in lost:
            winner = winners[entry.item.external_id or ""]
            if winner.case_id == entry.item.case_id and winner.content_hash == entry.digest:
                results[entry.index] = BatchItemResult.model_construct(
                    index=entry.index, status="duplicate", activity_id=winner.id, problem=None
                )
            else:
                fail(entry.index, _conflict(entry.item.external_id or "", winner.id))

    changed_ids = {entry.item.case_id for entry in stored_now if entry.item.kind in TIMELINE_KINDS}
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
_COPIED = ", ".join(COPY_COLUMNS)
# Per connection; `position` is the row's place in the batch, the order its events are inserted in, and
# `event_id` the id of its activity.recorded event.
CREATE_BATCH_TABLE = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS activity_batch_rows "
    "(LIKE activities INCLUDING DEFAULTS, position integer NOT NULL, event_id uuid NOT NULL) "
    "ON COMMIT DELETE ROWS"
)
# The activities of one chunk (the rows from position $2 on) and, for each one actually inserted, its
# activity.recorded event (the payload of `recorded_payload`, built here from the inserted row), in one
# statement: no payload is built or sent per item. Events are inserted in the batch's order, so their
# clock_timestamp() times keep it.
INSERT_BATCH_WITH_EVENTS = f"""
WITH inserted AS (
    INSERT INTO activities ({_COPIED})
    SELECT {_COPIED} FROM activity_batch_rows WHERE position >= $2 ORDER BY position
    ON CONFLICT (tenant_id, external_id) WHERE external_id IS NOT NULL DO NOTHING
    RETURNING id, tenant_id, case_id, track_id, kind, occurred_on
), events AS (
    INSERT INTO outbox_events (id, tenant_id, type, payload)
    SELECT batch.event_id, inserted.tenant_id, $1, jsonb_build_object(
        'case_id', inserted.case_id, 'activity_id', inserted.id, 'track_id', inserted.track_id,
        'kind', inserted.kind, 'occurred_on', inserted.occurred_on)
    FROM inserted JOIN activity_batch_rows batch ON batch.id = inserted.id
    ORDER BY batch.position
)
SELECT id FROM inserted
"""  # noqa: S608 (only the fixed column names are formatted in)


_copied_values = operator.itemgetter(*COPY_COLUMNS)


def copy_record(row: dict[str, Any], position: int) -> tuple[Any, ...]:
    """A row of `activity_batch_rows`: the activity's columns, its position and its event's id. The event
    id is uuid-utils' own UUID (the driver sends its bytes): it never comes back to Python, so it skips
    the conversion to `uuid.UUID` that `new_id` makes."""
    return (*_copied_values(row), position, uuid7_native())


# Rows per INSERT: while PostgreSQL inserts one chunk, the batch's items of the next are checked.
INSERT_CHUNK = 1000


class PipelinedInsert:
    """A batch's activities and their events inserted in chunks: each chunk is copied into the
    per-connection temporary table, then its INSERT … SELECT … ON CONFLICT DO NOTHING runs while the caller
    checks the next chunk's items, so PostgreSQL's half of a batch overlaps the service's half instead of
    following it. One statement at a time on the connection: a chunk's COPY waits for the INSERT before."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver
        self.copied = 0
        self.running: asyncio.Future[list[Any]] | None = None
        self.inserted: set[uuid.UUID] = set()

    async def send(self, rows: Sequence[dict[str, Any]]) -> None:
        first = self.copied
        records = [copy_record(row, first + offset) for offset, row in enumerate(rows)]
        await self._settle()
        if first == 0:
            await self.driver.execute(CREATE_BATCH_TABLE)
        await self.driver.copy_records_to_table(
            "activity_batch_rows", records=records, columns=(*COPY_COLUMNS, "position", "event_id")
        )
        self.copied += len(records)
        self.running = asyncio.ensure_future(
            self.driver.fetch(INSERT_BATCH_WITH_EVENTS, EventType.activity_recorded.value, first)
        )
        await asyncio.sleep(0)  # the INSERT's task sends it now, not when the caller next waits

    async def finish(self) -> set[uuid.UUID]:
        """The ids actually inserted (an external id that a concurrent writer stored first is skipped,
        not an error)."""
        await self._settle()
        if self.copied:
            await self.driver.execute("TRUNCATE activity_batch_rows")
        return self.inserted

    async def abandon(self) -> None:
        """After a failure: cancel the INSERT on its way and wait until it has stopped, so the connection
        is free for the rollback."""
        running, self.running = self.running, None
        if running is not None:
            running.cancel()
            with contextlib.suppress(BaseException):
                await running

    async def _settle(self) -> None:
        running, self.running = self.running, None
        if running is not None:
            self.inserted.update(record["id"] for record in await running)


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
