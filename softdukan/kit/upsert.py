"""`INSERT … ON CONFLICT DO NOTHING / DO UPDATE` for SQLite and PostgreSQL: idempotency enforced by unique keys
(rule 5)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert_ignore(session: AsyncSession, model: Any, conflict_columns: Sequence[str]) -> Any:
    """An insert that skips rows whose `conflict_columns` already exist. Execute it with the rows as parameters,
    `session.execute(statement, rows)`: the statement is then compiled once and cached (rows inlined with
    `.values(rows)` would compile on every call). Add `.returning(...)` to see which rows were new."""
    return _insert(session, model).on_conflict_do_nothing(index_elements=list(conflict_columns))


def insert_or_update(session: AsyncSession, model: Any, conflict_columns: Sequence[str],
                     update_columns: Sequence[str]) -> Any:
    """An insert whose rows that exist already (by `conflict_columns`) get `update_columns` from the row instead.
    Executed like `insert_ignore`; `.returning(...)` then returns new and existing rows alike. The rows of one
    statement must not repeat a key (PostgreSQL refuses to update a row twice in one command)."""
    statement = _insert(session, model)
    return statement.on_conflict_do_update(index_elements=list(conflict_columns),
                                           set_={name: statement.excluded[name] for name in update_columns})


def _insert(session: AsyncSession, model: Any) -> Any:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(getattr(model, "__table__", model))  # Core: rows as plain dicts, no ORM bulk-insert bookkeeping
