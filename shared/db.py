"""Database engine and sessions: PostgreSQL (asyncpg) in production, SQLite (aiosqlite) embedded."""

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import Select, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import Pool
from sqlalchemy.util import await_only, greenlet_spawn
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.settings import get_settings

T = TypeVar("T")


def _configure_sqlite(dbapi_connection, _record) -> None:
    # WAL lets the api, worker and web-facing reads proceed while one writer commits;
    # foreign keys are off by default in SQLite and we rely on them.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str, **kwargs) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        return engine
    # A fixed pool: connections beyond it ("overflow") are opened for a burst and closed after
    # it, each a new server process, a handshake and the driver's type introspection, which the
    # next burst pays again (measured: hundreds of reconnections in a 10 s GET /v1/me run, and
    # their waits in its p99). A request holds one connection at a time, for one statement or
    # one short transaction; waiting for one of twenty is cheaper than opening one.
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 0)
    # No ping at checkout: it is a round trip (in a transaction of its own) before every
    # request's first statement, a quarter of the api's work on GET /v1/me. Instead connections
    # are retired after half an hour (before a proxy or firewall silently drops an idle one), and
    # a connection found dead by its first statement invalidates the pool and that statement is
    # retried once on a fresh one (retry_on_stale_connection, used by every request's
    # authentication).
    kwargs.setdefault("pool_recycle", 1800)
    return create_async_engine(url, **kwargs)


@lru_cache
def get_engine() -> AsyncEngine:
    return make_engine(get_settings().database_url)


@lru_cache
def get_sessionmaker() -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(get_engine(), class_=AsyncSession, expire_on_commit=False)


@lru_cache
def get_read_sessionmaker() -> async_sessionmaker[AsyncSession]:
    """Sessions for requests that only read, with one statement: their connection is in
    autocommit, so the statement is its own snapshot and its only round trip (no BEGIN and no
    COMMIT around it). Never for a write, nor for reads that must agree with each other."""
    return async_sessionmaker(get_engine().execution_options(isolation_level="AUTOCOMMIT"),
                              class_=AsyncSession, expire_on_commit=False)


async def retry_on_stale_connection(session: AsyncSession,
                                    first_statement: Callable[[], Awaitable[T]]) -> T:
    """Runs a unit of work's first statement; if its pooled connection turns out to be dead (the
    database restarted, a proxy dropped it), SQLAlchemy invalidates the pool and the statement
    runs once more on a fresh connection. Only a first statement may be retried so: nothing
    before it can have been lost with the connection."""
    try:
        return await first_statement()
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
        await session.rollback()
        return await first_statement()


class PreparedRead:
    """A SELECT run straight on the pooled asyncpg connection, for the hottest reads (GET /v1/me)
    on PostgreSQL: compiled once, prepared once per connection (asyncpg's statement cache), its
    values converted by the columns' own types, so rows equal what a session returns. What it
    leaves out is SQLAlchemy's per-call execution layers: measured, 430-600 µs of CPU a call
    through a connection or a session, 110-130 µs this way. Runs outside any transaction. A dead
    connection is invalidated, the pool renewed and the read retried once on a fresh
    connection."""

    def __init__(self, statement: Select):
        self.statement = statement
        self.keys = list(statement.selected_columns.keys())
        self._compiled: tuple[str, list[str], dict[str, Any]] | None = None
        self._processors: list | None = None

    async def first(self, engine: AsyncEngine, **params: Any) -> dict[str, Any] | None:
        if self._compiled is None:
            compiled = self.statement.compile(dialect=engine.dialect)
            self._compiled = (compiled.string, list(compiled.positiontup or ()),
                              dict(compiled.params))
        sql, names, defaults = self._compiled
        values = {**defaults, **params}
        arguments = [values[name] for name in names]
        async with _fair_gate(engine.sync_engine.pool):
            try:
                record, oids = await greenlet_spawn(_fetch_row, engine.sync_engine, sql,
                                                    arguments, self._processors is None)
            except _DEAD_CONNECTION:
                # What dropped this connection (a restart, a proxy) dropped its idle siblings
                # too: a new pool, as SQLAlchemy itself invalidates the pool on a disconnect, so
                # that the retry gets a fresh connection. Connections in use finish their work
                # first.
                await engine.dispose(close=False)
                record, oids = await greenlet_spawn(_fetch_row, engine.sync_engine, sql,
                                                    arguments, self._processors is None)
        if self._processors is None:
            # The columns' result processors, as a session would apply them; some need the
            # column's type as the server reports it.
            self._processors = [
                column.type.dialect_impl(engine.dialect).result_processor(engine.dialect, oid)
                for column, oid in zip(self.statement.selected_columns, oids, strict=True)]
        if record is None:
            return None
        return {key: process(value) if process else value
                for key, process, value in zip(self.keys, self._processors, record, strict=True)}


_GATES: "weakref.WeakKeyDictionary[Pool, tuple[asyncio.AbstractEventLoop, asyncio.Semaphore]]" \
    = weakref.WeakKeyDictionary()


def _fair_gate(pool: Pool) -> asyncio.Semaphore | contextlib.nullcontext:
    """First come, first served for the pool's connections. Waiting in the pool itself is not:
    a connection given back goes to whichever request asks next, and a request already waiting
    goes to the back of the queue when a newcomer takes it first (measured at 64 concurrent
    GET /v1/me on a pool of 20: p50 22 ms, p99 111-143 ms, and some requests waited for most of
    the run). A semaphore of the pool's size, which hands a freed place to its oldest waiter,
    lets PreparedRead's callers through in their order of arrival."""
    size = getattr(pool, "size", None)
    if size is None:
        return contextlib.nullcontext()
    loop = asyncio.get_running_loop()
    found = _GATES.get(pool)
    if found is None or found[0] is not loop:
        found = _GATES[pool] = (loop, asyncio.Semaphore(size()))
    return found[1]


# What asyncpg raises when the connection under a statement is gone or unusable: closed or
# lost (class 08), terminated by the server (class 57: admin shutdown, crash), or left in a
# broken protocol state.
_DEAD_CONNECTION = (asyncpg.InterfaceError, asyncpg.InternalClientError,
                    asyncpg.PostgresConnectionError,
                    asyncpg.exceptions.OperatorInterventionError, OSError)


def _fetch_row(engine: Engine, sql: str, arguments: list[Any],
               with_types: bool) -> tuple[Any, list[int] | None]:
    """The first row, and with `with_types` the type oids of its columns. Runs in a greenlet
    (greenlet_spawn), as SQLAlchemy runs its own pool work, so that checking the connection out
    and in, and invalidating a dead one, behave exactly as for a session."""
    connection = engine.raw_connection()
    try:
        driver = connection.driver_connection
        oids = None
        if with_types:
            prepared = await_only(driver.prepare(sql))
            oids = [attribute.type.oid for attribute in prepared.get_attributes()]
        return await_only(driver.fetchrow(sql, *arguments)), oids
    except _DEAD_CONNECTION:
        connection.invalidate()
        raise
    finally:
        connection.close()


@asynccontextmanager
async def session_scope() -> AsyncIterator[AsyncSession]:
    """A unit of work: commits on success, rolls back on any error."""
    async with get_sessionmaker()() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


def reset_engine() -> None:
    """Forget the cached engine (tests and the worker re-read settings)."""
    get_sessionmaker.cache_clear()
    get_read_sessionmaker.cache_clear()
    get_engine.cache_clear()
