"""Test databases: a fresh SQLite file, or a fresh PostgreSQL database when DATABASE_URL points at one.

Both are built by running the Alembic migrations, exactly as `softdukan migrate` does.
"""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from softdukan.kit import migrate
from softdukan.models import Base


def base_postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


async def _recreate_pg_database(url: str, name: str) -> str:
    dsn = re.sub(r"^postgresql\+asyncpg", "postgresql", url)
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return re.sub(r"/[^/]*$", f"/{name}", url)


def fresh_database(tmp: Path, label: str) -> str:
    """A migrated, empty database; its URL."""
    pg = base_postgres_url()
    if pg:
        url = asyncio.run(_recreate_pg_database(pg, f"sdtest_{label}"))
    else:
        url = f"sqlite+aiosqlite:///{tmp / f'{label}.db'}"
    migrate.upgrade(url)
    return url


async def wipe(engine: AsyncEngine) -> None:
    """Empty every table between tests (faster than rebuilding the schema). PostgreSQL's TRUNCATE fires no row
    triggers; on SQLite the triggers are dropped and created again around the deletes."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            await delete_sqlite_rows(conn, tables)
            await conn.execute(text("DELETE FROM sqlite_sequence")) if await _has_sequence(conn) else None


async def delete_sqlite_rows(conn: AsyncConnection, tables: list[str]) -> None:
    """Empties SQLite tables, the ledger's guards (migration 0002, which refuse deletes) set aside meanwhile, as
    PostgreSQL's TRUNCATE fires no row triggers."""
    guards = (await conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"))).all()
    for name, _ in guards:
        await conn.execute(text(f'DROP TRIGGER "{name}"'))
    for table in tables:
        await conn.execute(text(f'DELETE FROM "{table}"'))
    for _, sql in guards:
        await conn.execute(text(sql))


async def _has_sequence(conn) -> bool:  # type: ignore[no-untyped-def]
    row = await conn.execute(text("SELECT name FROM sqlite_master WHERE name='sqlite_sequence'"))
    return row.first() is not None
