"""`INSERT … ON CONFLICT DO NOTHING` for SQLite and PostgreSQL: idempotency enforced by unique keys (rule 5)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert_ignore(session: AsyncSession, model: Any, conflict_columns: Sequence[str]) -> Any:
    """An insert that skips rows whose `conflict_columns` already exist. Execute it with the rows as parameters,
    `session.execute(statement, rows)`: the statement is then compiled once and cached (rows inlined with
    `.values(rows)` would compile on every call). Add `.returning(...)` to see which rows were new."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = getattr(model, "__table__", model)  # Core insert: rows as plain dicts, no ORM bulk-insert bookkeeping
    return insert(table).on_conflict_do_nothing(index_elements=list(conflict_columns))
