"""kit/db.py's dialect helpers used by the broadcast engine: reserved ids and refreshed planner statistics."""

from __future__ import annotations

from sqlalchemy import insert, select, text

from softdukan.contact.models import Tag
from softdukan.kit.db import refresh_statistics, reserve_ids
from tests.support.factories import make_org


async def test_reserved_ids_are_never_handed_out_again(runtime) -> None:
    org = await make_org(runtime)
    now = runtime.clock.now()
    async with runtime.sessionmaker() as session:
        reserved = await reserve_ids(session, Tag, 3)
        if session.get_bind().dialect.name == "sqlite":
            assert reserved is None  # no sequence: the caller inserts, then updates
            return
        assert reserved is not None and len(set(reserved)) == 3
        await session.execute(insert(Tag.__table__), [
            {"id": tag_id, "organization_id": org.org.id, "name": f"T{tag_id}", "name_key": f"t{tag_id}",
             "created_at": now} for tag_id in reserved])
        later = Tag(organization_id=org.org.id, name="Later", name_key="later", created_at=now)
        session.add(later)
        await session.commit()
        ids = (await session.execute(select(Tag.id).where(Tag.organization_id == org.org.id))).scalars().all()
    assert later.id not in reserved and sorted(ids) == sorted([*reserved, later.id])


async def test_statistics_refresh_inside_a_transaction(runtime) -> None:
    org = await make_org(runtime)
    now = runtime.clock.now()
    async with runtime.sessionmaker() as session:
        await session.execute(insert(Tag.__table__), [
            {"organization_id": org.org.id, "name": f"T{n}", "name_key": f"t{n}", "created_at": now}
            for n in range(200)])
        await refresh_statistics(session, Tag)
        await session.commit()
        if session.get_bind().dialect.name == "postgresql":
            seen = await session.scalar(text("SELECT reltuples FROM pg_class WHERE relname = 'tags'"))
            assert seen == 200  # the planner knows the rows now, not at autovacuum's next pass
        else:  # SQLite keeps no statistics unless ANALYZE ran: nothing was done
            assert await session.scalar(text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")) == 0
