"""Writing and reading the audit log. Every authenticated API request leaves one entry: a success in
the same transaction as the change it made (so a change is never committed without its entry), a
refusal in a short transaction of its own after the request's rollback."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from fastapi import Request
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import ClientDisconnect

from app.db import closing_connection, driver_connection
from app.http import decode_cursor, encode_cursor, utc_time
from app.ids import new_id
from app.models.audit import AuditEvent

# Path parameters that name the resource a request is about, most specific first.
RESOURCE_PARAMS = (
    ("activity_id", "activity"),
    ("period_id", "sickness_period"),
    ("track_id", "track"),
    ("key_id", "api_key"),
    ("endpoint_id", "webhook_endpoint"),
    ("feed_id", "calendar_feed"),
    ("case_id", "case"),
)
FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,79}")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def set_created_resource(request: Request, resource_type: str, resource_id: uuid.UUID | str) -> None:
    """Routes that create a resource name it here, so its audit entry points at it."""
    request.state.audit_resource = (resource_type, str(resource_id))


def _resource(request: Request) -> tuple[str | None, str | None]:
    created: tuple[str, str] | None = getattr(request.state, "audit_resource", None)
    if created is not None:
        return created
    for param, resource_type in RESOURCE_PARAMS:
        value = request.path_params.get(param)
        if value is not None:
            return resource_type, _as_resource_id(value)
    if "employee_ref" in request.path_params:  # the reference is personal data: the log keeps no copy
        return "employee", None
    return None, None


def _as_resource_id(value: object) -> str | None:
    """The id as logged: a malformed path segment of a refused request is the client's free text (any
    length, perhaps personal data), so the log keeps only ids that parse as UUIDs."""
    try:
        return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
    except ValueError:
        return None


async def _changed_fields(request: Request) -> list[str]:
    """Top-level field names of the JSON body: which fields a write touched, never their values. Names
    that cannot be ours (a refused body's are the client's free text, even NUL characters) are left out."""
    if request.method not in WRITE_METHODS:
        return []
    named: list[str] | None = getattr(request.state, "audit_fields", None)
    if named is not None:  # set by routes whose bodies are too large to parse twice
        return named
    try:
        body = json.loads(await request.body() or b"null")
    except (ValueError, ClientDisconnect):  # a client gone before its body arrived named nothing
        return []
    if not isinstance(body, dict):
        return []
    return sorted(name for name in body if FIELD_NAME.fullmatch(name))


async def audit_values(request: Request, outcome: str) -> dict[str, Any] | None:
    principal = getattr(request.state, "principal", None)
    if principal is None:  # unauthenticated requests have no tenant to log under
        return None
    route = request.scope.get("route")
    resource_type, resource_id = _resource(request)
    return {  # in the order of INSERT_EVENT's columns
        "id": new_id(),
        "at": datetime.now(UTC),  # the wall clock, not the transaction start: entries keep their order
        "tenant_id": principal.tenant_id,
        "key_id": principal.key_id,
        "role": principal.role.value,
        "action": getattr(route, "name", None) or "unknown",
        "method": request.method,
        "resource_type": resource_type,
        "resource_id": resource_id,
        "request_id": getattr(request.state, "request_id", None),
        "outcome": outcome,
        "changed_fields": await _changed_fields(request),
    }


# Every request writes one: plain SQL on the driver connection (see `driver_connection`).
EVENT_COLUMNS = (
    "id, at, tenant_id, key_id, role, action, method, resource_type, resource_id, request_id, outcome,"
    " changed_fields"
)
_EVENT_TYPES = (
    "uuid", "timestamptz", "uuid", "uuid", "varchar", "varchar", "varchar", "varchar", "varchar", "varchar",
    "varchar", "varchar[]",
)  # fmt: skip


def event_parameters(first: int) -> str:
    """`$first::uuid, …`: an entry's values as the statement's parameters from `$first` on."""
    return ", ".join(f"${first + i}::{type_}" for i, type_ in enumerate(_EVENT_TYPES))


def insert_event_statement(first: int, *, when: str | None = None) -> str:
    """The INSERT of one entry, its values the parameters from `$first` on; with `when` (a FROM or WHERE
    clause of a SELECT, such as "FROM inserted" for a CTE of the same statement) one entry per row it
    selects, so none when it selects none."""
    if when is None:
        return f"INSERT INTO audit_events ({EVENT_COLUMNS}) VALUES ({event_parameters(first)})"  # noqa: S608
    return f"INSERT INTO audit_events ({EVENT_COLUMNS}) SELECT {event_parameters(first)} {when}"


INSERT_EVENT = insert_event_statement(1)

# A request's success entry can be written by the request's own statement (`take_success_entry`).
_PENDING_REQUEST = "audit_pending_request"
_SUCCESS_TAKEN = "audit_success_taken"


def expect_success_entry(session: AsyncSession, request: Request) -> None:
    """The request whose session this is: its success entry may be taken by one of its statements."""
    session.info[_PENDING_REQUEST] = request


async def take_success_entry(session: AsyncSession) -> list[Any] | None:
    """The values of the request's success entry (in `EVENT_COLUMNS` order), for the statement that
    settles the request to insert with its own work: a round trip fewer than `record`. That statement's
    commit is then the entry's (a read's autocommit, or the write's transaction); if the request fails
    after all, the rollback takes the entry with it and the refusal is recorded as always. None outside
    a request, or when taken already: the statement then inserts no entry, and `record` writes it.
    The entry names the resource known when it is taken (`set_created_resource` must come first).

    A read's entry is committed with the read, before the response is built: should that fail after
    all (a defect, answered 500), the refusal's entry follows the read's."""
    request = session.info.pop(_PENDING_REQUEST, None)
    if request is None:
        return None
    values = await audit_values(request, "success")
    if values is None:
        return None
    session.info[_SUCCESS_TAKEN] = request
    return list(values.values())


def give_back_success_entry(session: AsyncSession) -> None:
    """The statement that took the entry inserted none after all (`insert_event_statement`'s `when`
    selected no row): another statement may take it, or `record` writes it."""
    request = session.info.pop(_SUCCESS_TAKEN, None)
    if request is not None:
        session.info[_PENDING_REQUEST] = request


@lru_cache(maxsize=256)  # the lists' statements vary with their filters: a few dozen texts
def with_success_entry(statement: str, condition: str | None, first: int) -> str:
    """`statement` (a SELECT) preceded by the insert of the request's success entry, its values the
    parameters from `$first` on, when `condition` (a SELECT) finds a row, or always without one: the
    read's own statement then writes the entry, committed with it."""
    when = f"WHERE EXISTS ({condition})" if condition is not None else ""
    return f"WITH audit_entry AS ({insert_event_statement(first, when=when)})\n{statement}"


async def fetchrow_with_success_entry(
    session: AsyncSession, statement: str, audited_statement: str, *args: Any
) -> Any:
    """One row of `statement`, or of `audited_statement` (`with_success_entry`) with the request's entry
    when it is there to take: a read settles its request in one round trip instead of two. The request's
    last statement (`closing_connection`)."""
    entry = await take_success_entry(session)
    async with closing_connection(session) as connection:
        if entry is None:
            return await connection.fetchrow(statement, *args)
        return await connection.fetchrow(audited_statement, *args, *entry)


async def fetch_with_success_entry(session: AsyncSession, statement: str, *args: Any) -> list[Any]:
    """The rows of `statement` (a SELECT of a list), the request's entry inserted by the same statement
    when it is there to take: a list page settles its request in one round trip instead of two. The
    request's last statement (`closing_connection`)."""
    entry = await take_success_entry(session)
    rows: list[Any]
    async with closing_connection(session) as connection:
        if entry is None:
            rows = await connection.fetch(statement, *args)
        else:
            rows = await connection.fetch(with_success_entry(statement, None, len(args) + 1), *args, *entry)
    return rows


async def record(session: AsyncSession, request: Request, outcome: str) -> None:
    if outcome == "success" and session.info.get(_SUCCESS_TAKEN) is not None:
        return  # the request's own statement wrote it (`take_success_entry`)
    values = await audit_values(request, outcome)
    if values is None:
        return
    if session.new or session.dirty or session.deleted:
        await session.flush()  # changes still pending open the transaction the entry must share
    # After a change, the entry joins its transaction; after only reads, it commits on its own.
    connection = await driver_connection(session, begin=False)
    await connection.execute(INSERT_EVENT, *values.values())


@dataclass(frozen=True, slots=True)
class AuditFilters:
    action: str | None = None
    resource_id: str | None = None
    key_id: uuid.UUID | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def list_events(
    session: AsyncSession, tenant_id: uuid.UUID, filters: AuditFilters, limit: int, cursor: str | None
) -> tuple[list[AuditEvent], str | None]:
    """Newest first."""
    query = select(AuditEvent).where(AuditEvent.tenant_id == tenant_id)
    if filters.action is not None:
        query = query.where(AuditEvent.action == filters.action)
    if filters.resource_id is not None:
        query = query.where(AuditEvent.resource_id == filters.resource_id)
    if filters.key_id is not None:
        query = query.where(AuditEvent.key_id == filters.key_id)
    if filters.outcome is not None:
        query = query.where(AuditEvent.outcome == filters.outcome)
    if filters.since is not None:
        query = query.where(AuditEvent.at >= filters.since)
    if filters.until is not None:
        query = query.where(AuditEvent.at < filters.until)
    if cursor is not None:
        position = decode_cursor(cursor, {"at": utc_time, "id": uuid.UUID})
        at, after_id = position["at"], position["id"]
        query = query.where(or_(AuditEvent.at < at, and_(AuditEvent.at == at, AuditEvent.id < after_id)))
    rows = list(
        (
            await session.execute(query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit + 1))
        ).scalars()
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor({"at": rows[-1].at.isoformat(), "id": str(rows[-1].id)})
    return rows, next_cursor
