"""Built-in roles follow the code. Organizations copy `BUILTIN_ROLES` into their role rows when they are created;
`softdukan migrate` brings those rows up to date, so a permission added with a feature (say `templates:read`)
reaches existing organizations' managers and agents too. Custom roles stay as their owners made them.

A system maintenance statement across all organizations, run by the migrate command, never by a request.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from softdukan.auth.models import Role
from softdukan.auth.permissions import BUILTIN_ROLES


async def sync_builtin_roles(engine: AsyncEngine) -> int:
    """Sets every built-in role's permissions to the code's; the number of role rows changed."""
    changed = 0
    async with engine.begin() as connection:
        for name, permissions in BUILTIN_ROLES.items():
            statement = update(Role).where(Role.is_builtin.is_(True), Role.name == name)
            result = await connection.execute(statement.values(permissions=sorted(permissions)))
            changed += result.rowcount or 0  # type: ignore[attr-defined]
    return changed
