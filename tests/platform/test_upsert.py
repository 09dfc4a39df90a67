"""kit/upsert.py on the suite's database: insert-or-ignore and insert-or-update by a unique key."""

from __future__ import annotations

from sqlalchemy import select

from softdukan.contact.models import Tag
from softdukan.kit.upsert import insert_ignore, insert_or_update
from tests.support.factories import make_org


async def test_insert_or_update_returns_new_and_existing_rows_and_updates_only_the_named_columns(runtime) -> None:
    org = await make_org(runtime)
    now = runtime.clock.now()
    async with runtime.sessionmaker() as session:
        existing = Tag(organization_id=org.org.id, name="VIP", name_key="vip", created_at=now)
        session.add(existing)
        await session.commit()
        t = Tag.__table__.c
        statement = insert_or_update(session, Tag, ["organization_id", "name_key"], ["name"]).returning(t.name_key,
                                                                                                         t.id)
        rows = await session.execute(statement, [
            {"organization_id": org.org.id, "name": "V.I.P.", "name_key": "vip", "created_at": now},
            {"organization_id": org.org.id, "name": "Diwali", "name_key": "diwali", "created_at": now}])
        ids = dict(rows.all())
        await session.commit()
        tags = {tag.name_key: tag for tag in (await session.execute(
            select(Tag).where(Tag.organization_id == org.org.id).execution_options(populate_existing=True))).scalars()}
    assert ids == {"vip": existing.id, "diwali": tags["diwali"].id}
    assert tags["vip"].name == "V.I.P." and tags["vip"].id == existing.id
    assert len(tags) == 2


async def test_insert_ignore_leaves_existing_rows_alone(runtime) -> None:
    org = await make_org(runtime)
    now = runtime.clock.now()
    async with runtime.sessionmaker() as session:
        session.add(Tag(organization_id=org.org.id, name="VIP", name_key="vip", created_at=now))
        await session.commit()
        await session.execute(insert_ignore(session, Tag, ["organization_id", "name_key"]), [
            {"organization_id": org.org.id, "name": "V.I.P.", "name_key": "vip", "created_at": now}])
        await session.commit()
        names = (await session.execute(select(Tag.name).where(Tag.organization_id == org.org.id))).scalars().all()
    assert names == ["VIP"]
