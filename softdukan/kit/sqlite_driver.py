"""SQLite under asyncio with one trip to the connection's thread per statement.

aiosqlite runs each sqlite3 connection in its own thread; every call is a queue put there and a future back,
tens of microseconds of thread wake-ups on a small machine. SQLAlchemy's aiosqlite adapter makes four such trips
per statement (open a cursor, execute, fetch the rows, close the cursor). `OneTripCursor` makes one: the statement
runs, its rows are fetched and its cursor closed inside a single function sent to the thread, and the results are
kept on our side, as the adapter keeps them anyway (it fetches every row of a non-server-side cursor at once).

`make_engine` (kit/db.py) installs it on every SQLite engine. It leans on two attributes of aiosqlite's
connection that SQLAlchemy's own adapter uses as well (`_tx`, `_conn`), which is why pyproject.toml bounds the
aiosqlite and SQLAlchemy versions; every test runs through it on SQLite."""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection, AsyncAdapt_aiosqlite_cursor
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util.concurrency import await_


def _in_thread(connection: Any, fn: Callable[[Any], Any]) -> Any:
    """Runs `fn(sqlite3 connection)` in the aiosqlite connection's thread and waits for it (in a greenlet)."""
    future = asyncio.get_running_loop().create_future()
    connection._tx.put_nowait((future, partial(fn, connection._conn)))
    return await_(future)


def _run(raw: Any, operation: str, parameters: Any, many: bool) -> tuple[Any, int, int | None, list[Any]]:
    cursor = raw.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        else:
            cursor.execute(operation, () if parameters is None else parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A DBAPI cursor for SQLAlchemy whose statements each cost one trip to the sqlite3 thread."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")
    _awaitable_cursor_close = False  # nothing to close on our side: the sqlite3 cursor closed in the thread

    def _make_new_cursor(self, connection: Any) -> Any:
        self._description: Any = None
        self._rowcount, self._lastrowid, self._arraysize = -1, None, 1
        return None  # opened in the thread, per statement

    def _aenter_cursor(self, cursor: Any) -> Any:
        return None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    def _send(self, operation: str, parameters: Any, many: bool) -> None:
        try:
            description, rowcount, lastrowid, rows = _in_thread(
                self._connection, lambda raw: _run(raw, operation, parameters, many))
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self._description, self._rowcount, self._lastrowid = description, rowcount, lastrowid
        self._rows = collections.deque(rows)

    def execute(self, operation: Any, parameters: Any = None) -> None:
        self._send(operation, parameters, False)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> None:
        self._send(operation, seq_of_parameters, True)

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None

    def close(self) -> None:
        self._rows.clear()


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor


def install(engine: AsyncEngine) -> None:
    """Every new connection of this SQLite engine uses `OneTripCursor` (the `do_connect` hook returns our
    adaptation of the aiosqlite connection the dialect opened)."""

    @event.listens_for(engine.sync_engine, "do_connect")
    def _connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> OneTripConnection:
        dbapi = dialect.loaded_dbapi
        return OneTripConnection(dbapi, dbapi.connect(*cargs, **cparams)._connection)
