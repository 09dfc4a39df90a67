"""Database engine, SQLite pragmas, the declarative base and the column types every model shares."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Integer, MetaData, event, text
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

from softdukan.kit import sqlite_driver

# Integer primary keys that autoincrement on SQLite (INTEGER PRIMARY KEY) and are 64-bit elsewhere.
BigId = BigInteger().with_variant(Integer, "sqlite")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, always returns an aware datetime (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[str]: JSON()}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Model(Base):
    """A table with an integer id and creation time."""

    __abstract__ = True
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TenantModel(Model):
    """A row that belongs to one organization; every query on it is scoped by organization_id."""

    __abstract__ = True

    @declared_attr
    def organization_id(cls) -> Mapped[int]:
        return mapped_column(BigId, ForeignKey("organizations.id", ondelete="CASCADE"), index=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


READ_FIRST = "softdukan_read_first"
"""Execution option: this SQLite transaction starts as a reader (see `_sqlite_transactions`)."""


def _reads_only(statement: str, context: Any) -> bool:
    if statement.lstrip()[:6].upper() != "SELECT":
        return False
    compiled = getattr(context, "compiled", None)  # SELECT ... FOR UPDATE means "I will write": lock first
    return getattr(getattr(compiled, "statement", None), "_for_update_arg", None) is None


def _sqlite_transactions(engine: AsyncEngine) -> None:
    """A transaction takes SQLite's write lock at BEGIN (IMMEDIATE), so two writers never deadlock on upgrade
    and a read-then-write sees no one else's write in between.

    A connection opened with the `READ_FIRST` option (GET requests: deps.py) begins as a reader instead: in WAL
    mode it reads a snapshot without waiting for a writer, so a page doesn't queue behind an import's or a
    broadcast's write transactions. At its first write (or locking read) it commits the reads (nothing was
    written) and begins IMMEDIATE, waiting for the lock like any writer. Its earlier reads may then be older
    than the lock: the read-committed semantics PostgreSQL gives every transaction, which the code is written
    for (guarded updates, unique keys)."""

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        read_first = bool(conn.get_execution_options().get(READ_FIRST))
        conn.info[READ_FIRST] = False  # the BEGIN itself is not a write
        conn.exec_driver_sql("BEGIN" if read_first else "BEGIN IMMEDIATE")
        conn.info[READ_FIRST] = read_first

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _lock_before_writing(conn: Any, cursor: Any, statement: str, _parameters: Any, context: Any,
                             _executemany: bool) -> None:
        if conn.info.get(READ_FIRST) and not _reads_only(statement, context):
            conn.info[READ_FIRST] = False
            cursor.execute("COMMIT")
            cursor.execute("BEGIN IMMEDIATE")


def _json_dumps(value: Any) -> str:
    # orjson: several times faster than json on the hot paths (raw webhook events, job args); non-string keys
    # are written as strings like json does
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


JSON_CODEC: dict[str, Any] = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}


def make_engine(url: str, *, echo: bool = False, pre_ping: bool = True, pool_size: int = 10) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30}, **JSON_CODEC)
        sqlite_driver.install(engine)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        _sqlite_transactions(engine)

        @event.listens_for(engine.sync_engine, "connect")
        def _no_pysqlite_begin(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        return engine
    return create_async_engine(url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=pre_ping,
                               **JSON_CODEC)


async def refresh_statistics(session: AsyncSession, model: Any) -> None:
    """After a bulk insert, let PostgreSQL's planner see the new rows now rather than at autovacuum's next pass.
    Its per-value estimate for a key it has never seen (a broadcast just snapshotted) is a handful of rows, which
    makes an index on that key look cheaper than probing 500 primary keys; for a 100,000-recipient broadcast that
    is a scan of every recipient for every chunk. (SQLite has no statistics unless ANALYZE is run, and its
    planner probes rowids for `id IN (…)`: nothing to do.)"""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text(f"ANALYZE {model.__table__.name}"))


async def reserve_ids(session: AsyncSession, model: Any, count: int) -> list[int] | None:
    """PostgreSQL: `count` new primary keys from the table's sequence, for rows that carry their own id in another
    column (one INSERT rather than an INSERT and an UPDATE of every row). None on SQLite, which has no sequence:
    insert, then update."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    rows = await session.execute(text("SELECT nextval(pg_get_serial_sequence(:table, 'id'))"
                                      " FROM generate_series(1, :n)"), {"table": model.__table__.name, "n": count})
    return [int(row[0]) for row in rows]


def make_nullpool_engine(url: str) -> AsyncEngine:
    """For short-lived processes and tests that hop event loops."""
    if url.startswith("sqlite"):
        return make_engine(url)
    return create_async_engine(url, poolclass=NullPool, **JSON_CODEC)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)
