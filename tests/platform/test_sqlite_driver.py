"""kit/sqlite_driver.py: every SQLite engine runs a statement, its rows and its cursor's close in ONE trip to
aiosqlite's thread, and still behaves as a DBAPI cursor (rows, rowcount, lastrowid, executemany, errors).

Its own SQLite file, so it runs in the PostgreSQL suite too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from softdukan.kit.db import make_engine
from softdukan.kit.sqlite_driver import OneTripConnection


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, n INT)"))
    yield engine
    await engine.dispose()


async def _trips(connection: AsyncConnection) -> list[int]:
    """Counts the functions sent to this connection's sqlite3 thread (aiosqlite's queue), from now on."""
    adapted = (await connection.get_raw_connection()).dbapi_connection
    assert isinstance(adapted, OneTripConnection)  # make_engine installed the driver
    queue, sent = adapted._connection._tx, [0]
    put = queue.put_nowait

    class Counting:
        def put_nowait(self, item: Any) -> None:
            sent[0] += 1
            put(item)

        def __getattr__(self, name: str) -> Any:
            return getattr(queue, name)

    adapted._connection._tx = Counting()
    return sent


async def test_a_statement_is_one_trip_with_its_rows_rowcount_and_lastrowid(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))  # BEGIN IMMEDIATE is behind us
        sent = await _trips(connection)
        inserted = await connection.execute(text("INSERT INTO t (name, n) VALUES ('a', 1)"))
        assert (sent[0], inserted.lastrowid, inserted.rowcount) == (1, 1, 1)
        await connection.execute(text("INSERT INTO t (name, n) VALUES (:name, :n)"),
                                 [{"name": "b", "n": 2}, {"name": "c", "n": 3}])
        assert sent[0] == 2  # executemany: one trip for all its rows
        updated = await connection.execute(text("UPDATE t SET n = n + 10 WHERE n >= 2"))
        assert (sent[0], updated.rowcount) == (3, 2)
        rows = (await connection.execute(text("SELECT name, n FROM t ORDER BY id"))).all()
        assert (sent[0], [tuple(r) for r in rows]) == (4, [("a", 1), ("b", 12), ("c", 13)])
        returned = (await connection.execute(text("UPDATE t SET n = 0 WHERE name = 'c' RETURNING id, n"))).all()
        assert (sent[0], [tuple(r) for r in returned]) == (5, [(3, 0)])
        assert (await connection.execute(text("SELECT n FROM t WHERE name = 'zzz'"))).first() is None
        assert sent[0] == 6
        await connection.commit()


async def test_errors_surface_as_sqlalchemy_errors_and_the_connection_goes_on(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("INSERT INTO t (name, n) VALUES ('a', 1)"))
        with pytest.raises(IntegrityError):
            await connection.execute(text("INSERT INTO t (name, n) VALUES ('a', 2)"))
        await connection.rollback()
        await connection.execute(text("INSERT INTO t (name, n) VALUES ('b', 2)"))
        await connection.commit()
    async with engine.connect() as connection:
        names = (await connection.execute(text("SELECT name FROM t ORDER BY name"))).scalars().all()
    assert names == ["b"]  # the failed transaction's 'a' was rolled back with it
