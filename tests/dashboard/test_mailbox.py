"""The development mailbox: shows every outgoing e-mail while SMTP is not configured; 404 when turned off."""

from __future__ import annotations

import html
import re

import httpx

from softdukan.main import create_app
from softdukan.notification.service import mail_service
from softdukan.platform.uow import unit_of_work
from tests.dashboard import form_post
from tests.support.factories import browser_sign_in, make_org


def _email_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-email-id="(\d+)"', page)]


async def test_mailbox_shows_the_invitation_after_delivery(client, runtime, drain_jobs) -> None:
    a = await make_org(runtime, "Kirana King")
    roles = (await client.get("/v1/roles", headers=a.auth)).json()
    agent_role = next(r["id"] for r in roles if r["name"] == "agent")
    await browser_sign_in(client, a.owner.email)
    invited = await form_post(client, "/settings/members/invite", {"email": "meera@example.com",
                                                                   "role_id": str(agent_role)},
                              page="/settings/members")
    assert invited.status_code == 303
    await drain_jobs()
    client.cookies.clear()  # the mailbox needs no sign-in: the invitee has no account yet
    page = await client.get("/mailbox")
    assert page.status_code == 200
    assert "Development mailbox — shown because SMTP is not configured" in page.text
    row = re.search(r'<tr data-email-id="(\d+)">(.*?)</tr>', page.text, re.S)
    assert row and "meera@example.com" in row.group(2) and "Kirana King" in row.group(2)
    assert ">mailbox</span>" in row.group(2)  # delivered into the mailbox by the job
    email = await client.get(f"/mailbox/{row.group(1)}")
    assert email.status_code == 200
    link = re.search(r'<a href="(http://testserver/invitations/accept\?token=[\w-]+)" target="_blank"', email.text)
    assert link, email.text
    srcdoc = re.search(r'<iframe[^>]*sandbox="allow-popups allow-popups-to-escape-sandbox"[^>]*srcdoc="([^"]*)"',
                       email.text)
    assert srcdoc and "Accept the invitation" in html.unescape(srcdoc.group(1))
    accept = await client.get(link.group(1).removeprefix("http://testserver"))
    assert accept.status_code == 200 and "Join Kirana King" in accept.text


async def test_mailbox_lists_newest_first_and_pages(client, runtime) -> None:
    async with unit_of_work(runtime) as uow:
        for n in range(103):
            await mail_service.send(uow, to=f"u{n}@example.com", subject=f"Mail {n}", text="hi")
    first = await client.get("/mailbox")
    ids = _email_ids(first.text)
    assert len(ids) == 100 and ids == sorted(ids, reverse=True) and "Mail 102" in first.text
    assert ">queued</span>" in first.text  # not delivered yet: no job ran
    older = re.search(r'href="(/mailbox\?before_id=\d+)" id="mailbox-older"', first.text)
    assert older
    second = await client.get(older.group(1))
    assert len(_email_ids(second.text)) == 3 and "Mail 0" in second.text


async def test_mailbox_escapes_what_it_shows(client, runtime) -> None:
    async with unit_of_work(runtime) as uow:
        email = await mail_service.send(
            uow, to="x@example.com", subject="<script>alert('s')</script>",
            text="Open https://example.com/a?x=1&y=2. Or <b>bold</b> javascript:alert(1) "
                 'https://evil.example/"><script>alert(1)</script>',
            html='<p>Hi</p><script>alert("h")</script><a href="https://example.com/">go</a>')
    listing = await client.get("/mailbox")
    assert "<script>alert('s')</script>" not in listing.text and "&lt;script&gt;" in listing.text
    page = await client.get(f"/mailbox/{email.id}")
    assert page.status_code == 200
    text = re.search(r'<pre[^>]*id="email-text">(.*?)</pre>', page.text, re.S)
    assert text
    body = text.group(1)
    assert '<a href="https://example.com/a?x=1&amp;y=2" target="_blank" rel="noopener noreferrer">' in body
    assert "&lt;b&gt;bold&lt;/b&gt;" in body and "<script>" not in body
    assert 'href="javascript' not in body and '<a href="https://evil.example/"' in body
    iframe = re.search(r"<iframe[^>]*>", page.text)
    assert iframe and "allow-scripts" not in iframe.group(0) and "allow-same-origin" not in iframe.group(0)
    assert '<script>alert("h")</script>' not in page.text  # only inside the escaped srcdoc attribute
    assert "&lt;script&gt;alert(&#34;h&#34;)&lt;/script&gt;" in iframe.group(0)


async def test_unknown_email_is_404(client) -> None:
    for path in ("/mailbox/12345", "/mailbox/0", "/mailbox/99999999999999999999999"):
        assert (await client.get(path)).status_code in (404, 422), path


async def test_mailbox_is_404_when_disabled(settings, runtime) -> None:
    async with unit_of_work(runtime) as uow:
        email = await mail_service.send(uow, to="x@example.com", subject="Secret reset link", text="token")
    app = create_app(settings.model_copy(update={"mailbox_enabled": False}), runtime=runtime, background=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        for path in ("/mailbox", f"/mailbox/{email.id}"):
            response = await client.get(path)
            assert response.status_code == 404, path
            assert "Secret reset link" not in response.text
        a = await make_org(runtime)
        await browser_sign_in(client, a.owner.email)
        home = await client.get("/settings/profile")
        assert 'href="/mailbox"' not in home.text  # nor in the navigation


async def test_mailbox_is_404_when_smtp_is_configured(settings, runtime) -> None:
    app = create_app(settings.model_copy(update={"smtp_url": "smtp://mail.example.com:587"}), runtime=runtime,
                     background=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        assert (await client.get("/mailbox")).status_code == 404
