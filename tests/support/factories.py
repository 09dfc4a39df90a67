"""Build organizations, members and keys through the real services (no raw inserts)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import count

import httpx

from softdukan.auth.api_keys import api_key_service
from softdukan.auth.models import User
from softdukan.auth.permissions import ALL
from softdukan.auth.subject import Subject
from softdukan.organization.models import Organization
from softdukan.organization.service import organization_service
from softdukan.platform.runtime import Runtime
from softdukan.platform.uow import unit_of_work

PASSWORD = "correct-horse-battery-9"
_seq = count(1)


@dataclass
class OrgFixture:
    org: Organization
    owner: User
    subject: Subject
    api_key: str
    users: dict[str, User] = field(default_factory=dict)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


async def make_org(runtime: Runtime, name: str | None = None, *, scopes: list[str] | None = None) -> OrgFixture:
    n = next(_seq)
    async with unit_of_work(runtime) as uow:
        owner, org = await organization_service.sign_up(
            uow, business_name=name or f"Org {n}", name=f"Owner {n}", email=f"owner{n}@example.com",
            mobile="+919812345678", password=PASSWORD, ip="127.0.0.1")
        subject = await organization_service.subject_for(uow, owner, org.id)
        assert subject is not None
        created = await api_key_service.create(uow, subject, name="test", scopes=scopes or sorted(ALL))
    return OrgFixture(org, owner, subject, created.secret)


def csrf_from(html: str) -> str:
    """The token of the page's first form, exactly as a browser would submit it."""
    match = re.search(r'name="csrf_token" value="([^"]*)"', html)
    assert match, "no form with a CSRF token on the page"
    assert match.group(1), "the form's CSRF token is empty"
    return match.group(1)


async def browser_sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    page = await client.get("/sign-in", follow_redirects=True)  # signed in already: the token is on any page
    response = await client.post("/sign-in", data={"email": email, "password": password, "next": "/",
                                                   "csrf_token": csrf_from(page.text)})
    assert response.status_code == 303, response.text
    return response


async def form_post(client: httpx.AsyncClient, path: str, data: dict[str, str], *, page: str | None = None,
                    **kwargs: object) -> httpx.Response:
    """POST a dashboard form with the CSRF token taken from `page` (default: the same path)."""
    html = (await client.get(page or path)).text
    return await client.post(path, data={**data, "csrf_token": csrf_from(html)}, **kwargs)  # type: ignore[arg-type]
