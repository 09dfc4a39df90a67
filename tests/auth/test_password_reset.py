from __future__ import annotations

import re

from sqlalchemy import select

from softdukan.notification.models import OutboundEmail
from tests.support.factories import browser_sign_in, csrf_from, form_post, make_org


async def reset_link(runtime, to: str) -> str:  # type: ignore[no-untyped-def]
    async with runtime.sessionmaker() as session:
        email = (await session.execute(select(OutboundEmail).where(OutboundEmail.to_address == to)
                                       .order_by(OutboundEmail.id.desc()))).scalars().first()
    assert email is not None
    match = re.search(r"http://testserver(/reset-password\?token=[\w-]+)", email.body_text)
    assert match
    return match.group(1)


async def test_reset_by_emailed_link_then_link_is_dead(client, runtime, drain_jobs) -> None:
    a = await make_org(runtime)
    response = await form_post(client, "/forgot-password", {"email": a.owner.email})
    assert response.status_code == 200 and "we've sent it a link" in response.text
    assert await drain_jobs() >= 1
    link = reset_link_path = await reset_link(runtime, a.owner.email)
    page = await client.get(link)
    assert page.status_code == 200
    token = reset_link_path.split("token=")[1]
    weak = await client.post("/reset-password", data={"token": token, "password": "short",
                                                      "csrf_token": csrf_from(page.text)})
    assert weak.status_code == 422 and "at least 10" in weak.text
    done = await client.post("/reset-password", data={"token": token, "password": "new-strong-password-42",
                                                      "csrf_token": csrf_from(page.text)})
    assert done.status_code == 303
    await browser_sign_in(client, a.owner.email, "new-strong-password-42")
    again = await client.get(link)
    assert again.status_code == 410 and "already used" in again.text


async def test_unknown_email_looks_the_same_and_sends_nothing(client, runtime) -> None:
    response = await form_post(client, "/forgot-password", {"email": "nobody@example.com"})
    assert response.status_code == 200 and "we've sent it a link" in response.text
    async with runtime.sessionmaker() as session:
        assert (await session.execute(select(OutboundEmail))).first() is None


async def test_expired_and_forged_links_are_410(client, runtime, drain_jobs) -> None:
    a = await make_org(runtime)
    await form_post(client, "/forgot-password", {"email": a.owner.email})
    link = await reset_link(runtime, a.owner.email)
    assert (await client.get("/reset-password?token=forged")).status_code == 410
    from datetime import timedelta

    from softdukan.kit.clock import FrozenClock

    runtime.clock = FrozenClock(runtime.clock.now() + timedelta(hours=2))
    response = await client.get(link)
    assert response.status_code == 410 and "expired" in response.text
