"""Engine, session factory and the per-request session (one transaction per request, committed before
the response is sent)."""

from __future__ import annotations

import logging
import weakref
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import MetaData
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from app.config import Settings
from app.problems import http_exception_code

if TYPE_CHECKING:
    import asyncpg

log = logging.getLogger("app.db")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def create_engine(settings: Settings) -> AsyncEngine:
    return create_async_engine(
        settings.async_database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_s,
        # No pre-ping round trip per checkout: a connection broken by a server restart fails its
        # request with 503, is invalidated with the rest of the pool, and the next request reconnects.
        pool_pre_ping=False,
        connect_args={
            "timeout": settings.db_connect_timeout_s,
            "server_settings": {
                "statement_timeout": str(settings.db_statement_timeout_ms),
                "application_name": "poortwachter",
            },
        },
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's session. Services only flush; this commits when the request's work ended normally
    and rolls back otherwise. Entered around the route's handler (`app.access.AuthorizedRoute`, or
    `get_session` with scope="function" outside it), so the commit happens before the response is
    sent: a failed commit becomes an error response, never a 2xx. The request's audit entry (A6) is
    written in the same transaction on success (by one of the request's own statements where one takes
    the entry, `audit.take_success_entry`), and on its own after a rollback."""
    from app.audit import service as audit

    factory: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with factory() as session:
        audit.expect_success_entry(session, request)
        try:
            try:
                yield session
            except BaseException as exc:
                await _end_failed(session, exc)
                if not database_unavailable(exc):  # in an outage there is nothing to write the refusal to
                    await _record_refusal(factory, request, _outcome(exc))
                raise
            try:
                await audit.record(session, request, "success")
                if database_transaction_open(session):
                    await session.commit()  # after reads only, closing the session is all that is left
            except BaseException as exc:
                await _end_failed(session, exc)
                raise
        finally:
            # `info` keeps the request, which keeps this session in its state: left there, every
            # request's session, request and scope would wait for the collector instead of being freed
            # at once, and its passes showed as 20-40 ms stalls of every request in flight.
            session.info.clear()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The session of a route outside `AuthorizedRoute` (the calendar feed, authenticated by its token)."""
    async with request_session(request) as session:
        yield session


async def current_session(request: Request) -> AsyncSession:
    """The session `AuthorizedRoute` opened for this request: a plain lookup, so a route's parameters
    resolve no second tree of session and key."""
    try:
        session: AsyncSession = request.state.session
    except AttributeError:
        raise RuntimeError(f"{request.url.path} uses SessionDep outside `AuthorizedRoute`") from None
    return session


async def _end_failed(session: AsyncSession, exc: BaseException) -> None:
    if connection_unusable(exc):
        # Discarded, not returned to the pool for the next request to fail on.
        await session.invalidate()
    else:
        await session.rollback()


async def _record_refusal(factory: async_sessionmaker[AsyncSession], request: Request, outcome: str) -> None:
    from app.audit import service as audit

    try:
        async with factory() as session, session.begin():
            await audit.record(session, request, outcome)
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        # The database went away after the refusal: the client still gets the refusal itself.
        log.warning("refusal not audited, database unavailable: %s", type(exc).__name__)


def _outcome(exc: BaseException) -> str:
    """The problem code a refused request answers with, as the audit log's outcome."""
    code = getattr(exc, "code", None)
    if isinstance(code, str):
        return code
    if type(exc).__name__ == "RequestValidationError":
        return "validation-failed"
    if type(exc).__name__ == "IdempotentReplay":
        return "replayed"
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):  # an HTTPException: the code its problem handler answers with
        return http_exception_code(status)
    return "error"


# SQLSTATE classes that mean "the database cannot serve this now", not "this request is wrong":
# 08 connection exception, 53 insufficient resources (too many connections, out of memory or disk),
# 57 operator intervention (shutting down, starting up, crash recovery, statement timeout, cancel).
_UNAVAILABLE_SQLSTATE_CLASSES = ("08", "53", "57")


def _error_chain(exc: BaseException) -> Iterator[BaseException]:
    """The error, the driver's error that SQLAlchemy wraps, and their causes and contexts."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        error = pending.pop()
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        yield error
        orig = getattr(error, "orig", None)
        pending.extend(
            [orig if isinstance(orig, BaseException) else None, error.__cause__, error.__context__]
        )


def connection_unusable(exc: BaseException) -> bool:
    """Whether the error leaves the request's connection unfit for another statement: lost, closed, or
    out of step with the server. The last happens when a connection has read PostgreSQL's termination
    notice at shutdown but not yet the close that follows it; the driver then refuses every statement
    with InternalClientError."""
    import asyncpg

    return any(
        (
            isinstance(error, OSError | asyncpg.InterfaceError | asyncpg.InternalClientError)
            and not isinstance(error, asyncpg.DataError)  # a value the driver cannot encode: sent nothing
        )
        or (isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated)
        for error in _error_chain(exc)
    )


def database_unavailable(exc: BaseException) -> bool:
    """Whether an error means the database is unreachable, restarting or overloaded (answered 503 with
    Retry-After) rather than a defect (500). Looks through the driver's exception that SQLAlchemy wraps:
    asyncpg's refusals while PostgreSQL shuts down or starts up arrive as plain DBAPIError."""
    if connection_unusable(exc):
        return True
    for error in _error_chain(exc):
        if isinstance(error, sa_exc.TimeoutError | TimeoutError):
            return True
        if isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
            return True
        sqlstate = getattr(error, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATE_CLASSES):
            return True
    return False


async def driver_connection(session: AsyncSession, *, begin: bool = True) -> asyncpg.Connection:
    """The asyncpg connection under the session. The hot paths run hand-written SQL on it: a statement
    costs a third of an ORM or Core execution (no expression building, cache key, compilation or row
    processing), and it commits or rolls back with the session.

    With `begin` (writes, locks) the session's transaction is started first if it has not been. Reads
    pass begin=False: inside an open transaction they run in it; otherwise each is its own statement,
    which under READ COMMITTED sees exactly what it would inside one. A request that only reads then
    spends no round trips on BEGIN and COMMIT."""
    adapted = await _adapted_connection(session)
    # SQLAlchemy's asyncpg adapter sends BEGIN with its first statement; `_start_transaction` is that
    # same step (tests/api/test_driver_connection.py holds it to that).
    if begin and adapted._transaction is None:
        await adapted._start_transaction()
    driver: asyncpg.Connection = adapted.driver_connection
    return driver


_ADAPTED = "adapted_connection"


async def _adapted_connection(session: AsyncSession) -> Any:
    """SQLAlchemy's adapter around the session's asyncpg connection, kept for the rest of the session's
    transaction: asking the session for it costs about 60 µs, and a request asks three to five times.
    The transaction is kept by a weak reference: a strong one would close a cycle (session, `info`,
    transaction, session) that only the collector frees."""
    kept = session.info.get(_ADAPTED)
    transaction = session.sync_session.get_transaction()
    if kept is not None and transaction is not None and kept[0]() is transaction:
        return kept[1]
    connection = await session.connection()
    adapted = (await connection.get_raw_connection()).dbapi_connection
    session.info[_ADAPTED] = (weakref.ref(session.sync_session.get_transaction()), adapted)
    return adapted


def database_transaction_open(session: AsyncSession) -> bool:
    """Whether the session may hold uncommitted work: anything pending, or a database transaction on
    its connection. False after plain-SQL reads only (they run without BEGIN, see `driver_connection`)."""
    if session.new or session.dirty or session.deleted:
        return True
    kept = session.info.get(_ADAPTED)
    if kept is None or kept[0]() is not session.sync_session.get_transaction():
        return session.in_transaction()  # not known from here: commit to be sure
    return kept[1]._transaction is not None


@asynccontextmanager
async def closing_connection(session: AsyncSession) -> AsyncIterator[asyncpg.Connection]:
    """The connection for a request's closing statements (plain SQL, each committing itself: a read's
    last statement, or the snapshot POST's case read and insert). With no transaction open on the
    session, one straight from the engine's pool, given back as soon as the block has run: no session
    transaction is set up around it (about 65 µs of a case read's CPU), and the rest of the request,
    computing and serialising the answer, holds no connection that other requests queue for. Inside a
    transaction (a write, a lock or an idempotency key came first), the session's own connection."""
    bind = session.bind
    if session.in_transaction() or not isinstance(bind, AsyncEngine):
        yield await driver_connection(session, begin=False)
        await release_connection(session)
        return
    pooled = await _checkout(bind)
    try:
        yield pooled.driver_connection
    except BaseException as exc:
        if connection_unusable(exc):
            from sqlalchemy.util import greenlet_spawn

            # Discarded, not returned to the pool for the next request to fail on.
            await greenlet_spawn(pooled.invalidate, exc if isinstance(exc, Exception) else None)
            raise
        pooled.close()
        raise
    # No BEGIN was sent on it, so the pool's reset (a rollback only when one was) awaits nothing.
    pooled.close()


async def _checkout(engine: AsyncEngine) -> Any:
    """A connection from the engine's pool, its failure to connect wrapped as `engine.connect()` wraps it
    (DBAPIError, which the problem handlers answer 503), not the driver adapter's bare error."""
    dialect = engine.dialect
    try:
        return await engine.raw_connection()
    except dialect.loaded_dbapi.Error as exc:
        raise sa_exc.DBAPIError.instance(
            None,
            None,
            exc,
            dialect.loaded_dbapi.Error,
            connection_invalidated=dialect.is_disconnect(exc, None, None),
            dialect=dialect,
        ) from exc


async def release_connection(session: AsyncSession) -> None:
    """Hands the session's connection back to the pool when it holds no transaction (plain-SQL statements
    without BEGIN only), after `closing_connection`'s block on it has run: the rest of the request,
    computing and serialising the answer, then holds no connection that other requests queue for.
    Another statement later in the request would take one again."""
    if not database_transaction_open(session):
        session.info.pop(_ADAPTED, None)
        await session.close()


class SqlArguments(list[Any]):
    """The arguments of a plain-SQL statement assembled from filters. `bind(value)` keeps the value and
    returns its `$n`, so only parameter numbers are ever formatted into the statement's text."""

    def bind(self, value: Any) -> str:
        self.append(value)
        return f"${len(self)}"


def attributes(record: Mapping[str, Any]) -> SimpleNamespace:
    """A record read on the driver connection with attribute access, as code written for ORM rows reads."""
    return SimpleNamespace(**record)


# Every /api/v1 route (`AuthorizedRoute`): the session it opened.
SessionDep = Annotated[AsyncSession, Depends(current_session)]
# Routes outside it: a session of their own.
UnauthenticatedSessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
