"""GET requests read without waiting for writers (kit/db.py `_sqlite_transactions`; PostgreSQL does it anyway).

On SQLite every transaction used to take the write lock at BEGIN, so a dashboard page queued behind an import's
or a broadcast's write transaction. The engine tests use their own SQLite file whatever the suite's database;
the page test runs on the suite's database. Each holds a write transaction open while reading: with the old
behaviour the reader waits for SQLite's busy timeout and fails with "database is locked"."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from softdukan.contact.models import Contact
from softdukan.kit.db import READ_FIRST, make_engine
from tests.support.factories import browser_sign_in, make_org


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[tuple[AsyncEngine, Path]]:
    path = tmp_path / "read-first.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
    yield engine, path
    await engine.dispose()


def _write_lock_free(path: Path) -> bool:
    """Whether a writer could take the lock right now (a probe that never waits)."""
    probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc)
        return False
    finally:
        probe.close()


async def test_a_reader_reads_the_committed_data_while_a_writer_holds_the_lock(sqlite) -> None:
    engine, path = sqlite
    async with engine.connect() as writer:
        await writer.execute(text("INSERT INTO t (v) VALUES ('uncommitted')"))
        assert not _write_lock_free(path)
        async with engine.connect() as reader:
            reader = await reader.execution_options(**{READ_FIRST: True})
            assert await reader.scalar(text("SELECT count(*) FROM t")) == 0  # the committed state
            await reader.commit()
        await writer.commit()
    async with engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM t")) == 1


async def test_a_reader_that_writes_after_someone_else_committed_keeps_both_writes(sqlite) -> None:
    engine, path = sqlite
    async with engine.connect() as conn:
        conn = await conn.execution_options(**{READ_FIRST: True})
        assert await conn.scalar(text("SELECT count(*) FROM t")) == 0  # its read snapshot starts here
        assert _write_lock_free(path)  # a reader holds no write lock
        async with engine.begin() as other:
            await other.execute(text("INSERT INTO t (v) VALUES ('other')"))
        # a plain deferred transaction could not write now: its snapshot is older than the last commit
        await conn.execute(text("INSERT INTO t (v) VALUES ('mine')"))
        assert not _write_lock_free(path)  # from the first write on, it holds the lock
        await conn.commit()
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT v FROM t ORDER BY id"))).scalars().all() == ["other", "mine"]


async def test_a_locking_read_takes_the_lock_before_it_reads(sqlite) -> None:
    engine, path = sqlite
    from sqlalchemy import column, select, table

    t = table("t", column("id"))
    async with engine.connect() as conn:
        conn = await conn.execution_options(**{READ_FIRST: True})
        await conn.execute(select(t.c.id))
        assert _write_lock_free(path)
        await conn.execute(select(t.c.id).with_for_update())  # "I am about to write what I read"
        assert not _write_lock_free(path)
        await conn.rollback()
    assert _write_lock_free(path)


async def test_other_transactions_still_take_the_lock_at_begin(sqlite) -> None:
    engine, path = sqlite
    async with engine.connect() as conn:
        await conn.scalar(text("SELECT count(*) FROM t"))
        assert not _write_lock_free(path)
        await conn.rollback()


async def test_a_dashboard_page_answers_while_a_writer_holds_its_transaction(runtime, client) -> None:
    org = await make_org(runtime)
    await browser_sign_in(client, org.owner.email)
    now = runtime.clock.now()
    async with runtime.sessionmaker() as writer:
        writer.add(Contact(organization_id=org.org.id, wa_id="919812345678", phone="919812345678", name="Asha Rao",
                           first_seen_at=now, created_at=now, updated_at=now, attributes={}))
        await writer.flush()  # on SQLite the write lock is now held until the commit below
        page = await client.get("/contacts")
        assert page.status_code == 200
        assert "Asha Rao" not in page.text
        await writer.commit()
    assert "Asha Rao" in (await client.get("/contacts")).text
