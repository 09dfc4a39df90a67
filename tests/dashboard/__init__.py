"""Dashboard page tests. Helpers shared by them: members with a given role, signing in as someone else."""

from __future__ import annotations

import re
from itertools import count

import httpx

from softdukan.auth.models import User
from softdukan.auth.roles import role_service
from softdukan.notification.repository import OutboundEmailRepository
from softdukan.organization.service import organization_service
from softdukan.platform.runtime import Runtime
from softdukan.platform.uow import unit_of_work
from tests.support.factories import PASSWORD, OrgFixture, browser_sign_in

_seq = count(1)


async def add_member(runtime: Runtime, org: OrgFixture, role: str = "agent", *,
                     permissions: list[str] | None = None) -> tuple[User, int]:
    """Invite and accept a new user with `role` (created as a custom role with `permissions` if given).

    Returns the user and their membership id.
    """
    n = next(_seq)
    email = f"{role.replace(' ', '-')}{n}@example.com"
    async with unit_of_work(runtime) as uow:
        roles = {r.name: r for r in await role_service.list(uow, org.subject)}
        chosen = roles.get(role) or await role_service.create(uow, org.subject, name=role, description=None,
                                                              permissions=permissions or [])
        await organization_service.invite(uow, org.subject, email=email, role_id=chosen.id)
        mail = next(m for m in await OutboundEmailRepository(uow.session).newest() if m.to_address == email)
    match = re.search(r"token=([\w-]+)", mail.body_text)
    assert match, mail.body_text
    async with unit_of_work(runtime) as uow:
        user, _ = await organization_service.accept_as_new_user(uow, token=match.group(1), name=f"Member {n}",
                                                                mobile=None, password=PASSWORD, ip=None)
        view = next(v for v in await organization_service.members(uow, org.subject) if v.user.id == user.id)
    org.users[email] = user
    return user, view.membership.id


async def sign_in_as(client: httpx.AsyncClient, email: str) -> None:
    client.cookies.clear()
    await browser_sign_in(client, email)


def has_inline_error(html: str, field: str, message: str | None = None) -> bool:
    """The field is marked invalid and its message sits in the invalid-feedback under it."""
    marked = re.search(rf'id="f-{re.escape(field)}"[^>]*aria-invalid="true"', html, re.S) is not None
    feedback = re.search(rf'class="invalid-feedback[^"]*" id="e-{re.escape(field)}">([^<]*)<', html)
    return marked and feedback is not None and (message is None or message in feedback.group(1))


def forms_missing_token(html: str) -> list[str]:
    """Actions of the POST forms in the page's main content that don't carry the page's CSRF token."""
    main = html.split('id="main"', 1)[-1]
    forms = (f.groups() for f in re.finditer(r"<form\b([^>]*)>(.*?)</form>", main, re.S))
    return [re.sub(r'.*action="([^"]*)".*', r"\1", attrs, flags=re.S) for attrs, body in forms
            if 'method="post"' in attrs and f'name="csrf_token" value="{page_token(html)}"' not in body]


def page_token(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


async def form_post(client: httpx.AsyncClient, path: str, data: dict[str, object], *, page: str | None = None
                    ) -> httpx.Response:
    """POST like the browser does, with the token the forms on `page` (default: the same path) carry."""
    html = (await client.get(page or path)).text
    assert forms_missing_token(html) == [], "a form on the page lacks the CSRF token"
    return await client.post(path, data={**data, "csrf_token": page_token(html)})  # type: ignore[dict-item]
