"""Built-in roles follow the code: `softdukan migrate` brings existing organizations' built-in roles up to date
(a permission added with a feature reaches their managers and agents); custom roles are left alone."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from sqlalchemy import select, update

from softdukan.auth.builtin_roles import sync_builtin_roles
from softdukan.auth.models import Role
from softdukan.auth.permissions import BUILTIN_ROLES, MANAGER
from tests.support.factories import make_org

ROOT = Path(__file__).resolve().parents[2]


async def _roles(runtime, org_id: int) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    async with runtime.sessionmaker() as session:
        roles = (await session.scalars(select(Role).where(Role.organization_id == org_id))).all()
        return {r.name: sorted(r.permissions) for r in roles}


async def test_stale_builtin_roles_are_brought_up_to_date_and_custom_roles_kept(runtime) -> None:  # type: ignore[no-untyped-def]
    fixture = await make_org(runtime)
    org_id = fixture.org.id
    async with runtime.sessionmaker() as session:  # as if the organization was created before templates existed
        await session.execute(update(Role).where(Role.organization_id == org_id, Role.name == MANAGER)
                              .values(permissions=["organization:read"]))
        session.add(Role(organization_id=org_id, name="Auditor", permissions=["audit:read"], is_builtin=False))
        await session.commit()

    assert await sync_builtin_roles(runtime.engine) >= len(BUILTIN_ROLES)

    roles = await _roles(runtime, org_id)
    assert roles[MANAGER] == sorted(BUILTIN_ROLES[MANAGER]) and "templates:read" in roles[MANAGER]
    assert roles["Auditor"] == ["audit:read"]


async def test_the_migrate_command_syncs_them(runtime, settings) -> None:  # type: ignore[no-untyped-def]
    fixture = await make_org(runtime)
    async with runtime.sessionmaker() as session:
        await session.execute(update(Role).where(Role.organization_id == fixture.org.id, Role.name == MANAGER)
                              .values(permissions=["organization:read"]))
        await session.commit()

    env = {**os.environ, "DATABASE_URL": settings.database_url, "SOFTDUKAN_SECRET_KEY": settings.softdukan_secret_key}
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "softdukan.cli", "migrate", cwd=ROOT, env=env,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, stderr.decode()
    assert (await _roles(runtime, fixture.org.id))[MANAGER] == sorted(BUILTIN_ROLES[MANAGER])
