"""Every dashboard and backoffice POST form, fed with Hypothesis-generated fields: no request may answer 5xx.

Each POST route outside /v1 (found with api_routes(), so new forms are fuzzed without touching this file)
is posted to as a signed-in organization owner who is also signed in to the backoffice as staff, always
with a valid CSRF token. The fields are drawn per route from its form parameters: unicode text, very long
strings, numbers as strings, empty or missing fields, extra fields, repeated fields, huge integers in id
fields, and path ids drawn from integers including 0, negatives and 2**70. A field with a NUL character
must be refused with 400 by the input guard (softdukan/platform/input_guard.py) before any route runs.

All routes share one database per xdist worker (made here, not the per-test one: the fixtures of
tests/conftest.py wipe it for every test) seeded with a second member, a team, a custom role, an
invitation, a second organization the owner belongs to, a staff account and queued jobs, so fuzzed ids
hit real rows too. What an accepted request may undo for the next one is put back after it: a signed-out
(or switched, or signed-up-as-someone-else) owner and a signed-out staff member get a new session, a
suspended organization is unsuspended, a transferred ownership is transferred back. Generation is
derandomized (the same requests every run) and not shrunk (the database has moved on by then; the
failure message and Hypothesis' "Draw 1: request" line name the exact request).

500s it found once are kept as test_fixed_5xx_* regression tests with their minimal request.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from softdukan.auth.api_keys import api_key_service
from softdukan.auth.models import Role
from softdukan.auth.permissions import ALL
from softdukan.auth.repository import UserRepository
from softdukan.auth.roles import role_service
from softdukan.auth.service import auth_service
from softdukan.backoffice.models import StaffSession
from softdukan.backoffice.repository import StaffSessionRepository, StaffUserRepository
from softdukan.backoffice.service import STAFF_SESSION_TTL, create_staff_user, staff_service
from softdukan.backoffice.views import STAFF_COOKIE
from softdukan.config import Settings
from softdukan.dashboard.context import SESSION_COOKIE
from softdukan.kit.crypto import new_token, token_hash
from softdukan.kit.routes import RouteInfo, api_routes
from softdukan.main import create_app
from softdukan.organization.models import Membership, Organization
from softdukan.organization.service import organization_service
from softdukan.platform.jobs.models import Job
from softdukan.platform.runtime import Runtime, build_runtime
from softdukan.platform.uow import unit_of_work
from softdukan.team.service import team_service
from tests.support.databases import fresh_database
from tests.support.factories import PASSWORD, csrf_from, make_org

SECRET = "form-fuzz-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
MAX_EXAMPLES = 40  # per route
STAFF_EMAIL = "fuzz-staff@staff.example.com"
STAFF_PASSWORD = "staff-Fuzzing-passphrase-42"  # also in the password pool: a staff sign-in can succeed
# The fuzzing browser's address: its failed sign-ins fill this address's throttle bucket, not 127.0.0.1's.
FUZZ_CLIENT = ("127.0.0.2", 50000)


def _settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, redis_url=None, softdukan_secret_key=SECRET,
                    base_url="http://testserver", run_jobs_in_process=False, scheduler_in_process=False,
                    smtp_url=None)


def _post_routes() -> list[RouteInfo]:
    app = create_app(_settings("sqlite+aiosqlite:///:memory:"), background=False)  # routes only, no queries
    return sorted((info for info in api_routes(app) if "POST" in info.methods and not info.path.startswith("/v1")),
                  key=lambda info: info.path)


ROUTES = _post_routes()
PATH_PARAM = re.compile(r"{(\w+)(?::\w+)?}")


# -- what the fuzzer sends -----------------------------------------------------------------------------------

NUL_VALUES = ["\x00", "team\x00name"]
# A dictionary of values that have broken web apps before; Hypothesis draws from it next to random text.
# Repeats matter: the same odd name twice is how duplicate checks get tested.
TRICKY = ["Équipe", "ÉQUIPE", "équipe", "İstanbul", "ß", "STRASSE", "Straße", "日本語のチーム", "👩‍👩‍👧‍👦",
          "\u202eevil", "e\u0301", "  padded  ", " \t\n ", "<script>alert(1)</script>", "' OR 1=1 --", "%00",
          "\\u0000", "{{7*7}}", "../../etc/passwd", "null", "true", "-0", "1e309", "NaN", "0x1F", "\ufeff",
          "\r\nSet-Cookie: x=1", "owner", "admin", "agent", "teams:read", "*", *NUL_VALUES]
# "İ".lower() is two characters: 60 of them fit a 60-character field only until they are lower-cased
LONG = ["İ" * 60, "x" * 300, "é" * 10_000, "9" * 5_000, "a " * 5_000, "😀" * 2_000]
# ids past 64 bits, and more digits than int() converts (4300, Python's max_str_digits)
BIG_NUMBERS = [str(n) for n in (0, -1, 2**31, 2**63 - 1, 2**63, 2**64, 2**70, -(2**70))] + ["9" * 4_301]
EMAILS = [STAFF_EMAIL, "owner@example.com", "OWNER@EXAMPLE.COM", "fuzz-member@example.com", "new-person@example.com",
          "a@b", "user@例え.jp", "x" * 250 + "@example.com", "@example.com", "no-at-sign", "a@b.c"]
PASSWORDS = [PASSWORD, STAFF_PASSWORD, "Str0ng-and-unique-passphrase", "short", "password123", "é" * 20, "x" * 201]
MOBILES = ["+919812345678", "9812345678", "+1 (555) 010-0100", "+", "+" + "9" * 40, "0", "phone"]
TIMEZONES = ["Asia/Kolkata", "UTC", "Mars/Olympus", "Etc/GMT+14", "../../etc/passwd", "Asia/" + "x" * 300]
NEXT_PATHS = ["/", "/settings/teams", "//evil.example", "https://evil.example", "/\\evil.example", "javascript:x"]

no_nul = st.characters(codec="utf-8", exclude_characters="\x00")  # a browser sends UTF-8: no lone surrogates
plain_text = st.text(alphabet=no_nul, max_size=40)
number_text = st.one_of(st.integers(min_value=-(2**70), max_value=2**70).map(str), st.floats().map(str),
                        st.sampled_from(BIG_NUMBERS))
any_text = st.one_of(plain_text, st.sampled_from(TRICKY), number_text, st.just(""), st.sampled_from(LONG))


def _ids(pool: list[int]) -> st.SearchStrategy[Any]:
    """A path or form id: a real row, a small number, a boundary (0, negative, past 64 bits) or not a number."""
    real = st.sampled_from(pool) if pool else st.integers(min_value=1, max_value=5)
    return st.one_of(real, real, st.integers(min_value=-3, max_value=12), st.sampled_from(BIG_NUMBERS),
                     st.sampled_from(["abc", "1.5", "+1", " 7", "١٢", "1e3"]))


def _value(name: str, world: World) -> st.SearchStrategy[Any]:
    if name.endswith("_id"):
        return st.one_of(_ids(world.ids.get(name, [])).map(str), any_text)
    if name in ("permissions", "scopes"):
        return st.one_of(st.lists(st.sampled_from(sorted(ALL)), max_size=6),
                         st.lists(st.one_of(st.sampled_from(sorted(ALL)), any_text), max_size=6))
    pools = {"email": [*EMAILS, world.owner_email], "mobile": MOBILES, "timezone": TIMEZONES, "next": NEXT_PATHS}
    if "password" in name:
        # never the real password as current_password: a changed password would lock the owner out
        pool = [p for p in PASSWORDS if p != PASSWORD] if name == "current_password" else PASSWORDS
        return st.one_of(st.sampled_from(pool), st.sampled_from(pool), any_text)
    if name in pools:
        return st.one_of(st.sampled_from(pools[name]), st.sampled_from(pools[name]), any_text)
    return any_text


# Plausible values, so a form often gets past its first check: the fuzzer then breaks one field at a time.
VALID = {"name": ["Fuzz Probe", "Équipe", "日本語のチーム", "  Padded   Name  ", "İstanbul Desk"],
         "business_name": ["Fuzz Biz Pvt Ltd"], "mobile": ["+919812345678"], "timezone": ["Asia/Kolkata", "UTC"],
         "description": ["", "seeded by the form fuzzer"], "reason": ["spam", "Chargebacks ✔"],
         "password": ["Str0ng-and-unique-passphrase"], "new_password": ["Str0ng-and-unique-passphrase"],
         "confirm_password": ["Str0ng-and-unique-passphrase"], "current_password": ["not-the-password-1"],
         "token": ["no-such-token"], "next": ["/", "/settings/teams"]}


def _valid(name: str, world: World) -> st.SearchStrategy[Any]:
    if name.endswith("_id"):
        return st.sampled_from(world.ids.get(name) or [1]).map(str)
    if name in ("permissions", "scopes"):
        return st.lists(st.sampled_from(sorted(ALL)), min_size=1, max_size=4, unique=True)
    if name == "email":
        return st.integers(min_value=1, max_value=10**6).map(lambda n: f"probe{n}@example.com")
    return st.sampled_from(VALID.get(name, ["Fuzz Probe"]))


@st.composite
def form_requests(draw: st.DrawFn, info: RouteInfo, world: World) -> tuple[str, list[tuple[str, str]]]:
    """A URL for the route and the form's fields (a list of pairs: a name may repeat).

    Half the forms are wild (every field random or missing), half are plausible with one field broken.
    """
    url = PATH_PARAM.sub(lambda m: quote(str(draw(_ids(world.ids.get(m.group(1), [])))), safe=""), info.path)
    names = [param.alias for param in info.route.dependant.body_params]
    wild = draw(st.booleans())
    broken = draw(st.sampled_from(names)) if names and not wild else None
    fields: list[tuple[str, str]] = []
    for name in names:
        if name == broken or wild:
            if draw(st.integers(0, 7)) == 0:
                continue  # the field is missing
            value = draw(_value(name, world))
            if not isinstance(value, list) and draw(st.integers(0, 9)) == 0:
                value = [value, draw(any_text)]  # the same field twice
        else:
            value = draw(_valid(name, world))
        fields += [(name, str(v)) for v in (value if isinstance(value, list) else [value])]
    extra_names = st.text(alphabet=no_nul, min_size=1, max_size=12).filter(lambda n: n != "csrf_token")
    fields += draw(st.lists(st.tuples(extra_names, any_text), max_size=3))
    return url, fields


# -- the world the forms act on ------------------------------------------------------------------------------


@dataclass
class World:
    runtime: Runtime
    client: httpx.AsyncClient
    csrf: str
    owner_id: int
    owner_email: str
    owner_membership_id: int
    org_id: int
    staff_id: int
    ids: dict[str, list[int]] = field(default_factory=dict)

    def _cookie_domain(self) -> str:
        return next(c.domain for c in self.client.cookies.jar if c.name == "sd_csrf")

    def _set_cookie(self, name: str, value: str, path: str) -> None:
        for cookie in [c for c in self.client.cookies.jar if c.name == name]:
            self.client.cookies.jar.clear(cookie.domain, cookie.path, cookie.name)
        self.client.cookies.set(name, value, domain=self._cookie_domain(), path=path)

    def _cookie(self, name: str) -> str | None:
        return next((c.value for c in self.client.cookies.jar if c.name == name), None)

    async def restore(self) -> None:
        """Put back what the last request may have undone, through the services (no sign-in throttle)."""
        async with unit_of_work(self.runtime) as uow:
            org = await uow.session.get(Organization, self.org_id)
            assert org is not None
            if org.suspended_at is not None:
                staff = await StaffUserRepository(uow.session).by_id(self.staff_id)
                assert staff is not None
                await staff_service.unsuspend(uow, staff, self.org_id)
            owner_row = await uow.session.get(Membership, self.owner_membership_id)
            assert owner_row is not None, "the owner's membership is gone"
            if not owner_row.is_owner:
                new_owner = (await uow.session.execute(select(Membership).where(
                    Membership.organization_id == self.org_id, Membership.is_owner))).scalar_one()
                user = await UserRepository(uow.session).by_id(new_owner.user_id)
                assert user is not None
                subject = await organization_service.subject_for(uow, user, self.org_id)
                assert subject is not None
                await organization_service.transfer_ownership(uow, subject, self.owner_membership_id)
            token = self._cookie(SESSION_COOKIE)
            session = await auth_service.session_for(uow, token) if token else None
            if session is None or session.user_id != self.owner_id or session.organization_id != self.org_id:
                owner = await UserRepository(uow.session).by_id(self.owner_id)
                assert owner is not None
                signed = await auth_service.start_session(uow, owner, organization_id=self.org_id, ip=None,
                                                          user_agent="form-fuzz")
                self._set_cookie(SESSION_COOKIE, signed.token, "/")
            staff_token = self._cookie(STAFF_COOKIE)
            if not staff_token or await staff_service.session_for(uow, staff_token) is None:
                # what staff_service.sign_in stores, without its password check (argon2: 0.25 s a time)
                staff_token, now = new_token(), uow.clock.now()
                StaffSessionRepository(uow.session).add(StaffSession(
                    token_hash=token_hash(SECRET, staff_token), staff_user_id=self.staff_id,
                    expires_at=now + STAFF_SESSION_TTL, created_at=now))
                self._set_cookie(STAFF_COOKIE, staff_token, "/backoffice")


async def _seed(runtime: Runtime, settings_: Settings) -> dict[str, Any]:
    home = await make_org(runtime, "Form Fuzz Ltd")
    other = await make_org(runtime, "Other Org Pvt")
    async with unit_of_work(runtime) as uow:
        roles = await role_service.list(uow, home.subject)
        agent = next(r for r in roles if r.name == "agent")
        custom = await role_service.create(uow, home.subject, name="fuzz-role", description="seeded",
                                           permissions=["teams:read"])
        team = await team_service.create(uow, home.subject, name="Fuzz Team", description="seeded")
        invitation = await organization_service.invite(uow, home.subject, email="fuzz-invitee@example.com",
                                                       role_id=agent.id)
        member_user = await auth_service.create_user(uow, email="fuzz-member@example.com", name="Fuzz Member",
                                                     password=PASSWORD, mobile=None)
        member = Membership(organization_id=home.org.id, user_id=member_user.id, role_id=agent.id,
                            created_at=uow.clock.now())
        other_agent = next(r for r in await role_service.list(uow, other.subject) if r.name == "agent")
        # the owner also belongs to a second organization, so switching organizations can succeed
        uow.session.add_all([member, Membership(organization_id=other.org.id, user_id=home.owner.id,
                                                role_id=other_agent.id, created_at=uow.clock.now())])
        await uow.flush()
        await team_service.add_member(uow, home.subject, team.id, member.id)
        owner_membership = (await uow.session.execute(select(Membership.id).where(
            Membership.organization_id == home.org.id, Membership.user_id == home.owner.id))).scalar_one()
        key_ids = [key.id for key in await api_key_service.list(uow, home.subject)]
        job_ids = list((await uow.session.execute(select(Job.id))).scalars())
    staff = await create_staff_user(settings_, email=STAFF_EMAIL, name="Fuzz Staff", password=STAFF_PASSWORD)
    ids = {"role_id": [r.id for r in roles] + [custom.id], "team_id": [team.id],
           "member_id": [owner_membership, member.id], "membership_id": [owner_membership, member.id],
           "invitation_id": [invitation.id], "key_id": key_ids, "org_id": [home.org.id, other.org.id],
           "organization_id": [home.org.id, other.org.id], "job_id": job_ids}
    return {"owner_id": home.owner.id, "owner_email": home.owner.email, "owner_membership_id": owner_membership,
            "org_id": home.org.id, "staff_id": staff.id, "ids": ids}


@pytest.fixture(scope="module")
def form_fuzz_database(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> str:
    return fresh_database(tmp_path_factory.mktemp("form-fuzz"), f"formfuzz_{worker_id}")  # sync: runs its own loop


@pytest.fixture(scope="module")
async def world(form_fuzz_database: str) -> AsyncIterator[World]:
    settings_ = _settings(form_fuzz_database)
    runtime = build_runtime(settings_)
    try:
        seeded = await _seed(runtime, settings_)
        app = create_app(settings_, runtime=runtime, background=False)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=FUZZ_CLIENT)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            page = await client.get("/sign-in")  # sets the CSRF cookie; its token stays valid with the cookie
            built = World(runtime, client, csrf_from(page.text), **seeded)
            await built.restore()  # signs the owner and the staff member in
            yield built
    finally:
        await runtime.close()


# -- the properties ------------------------------------------------------------------------------------------


async def _post(world: World, url: str, fields: list[tuple[str, str]]) -> httpx.Response:
    body = urlencode([*fields, ("csrf_token", world.csrf)])
    response = await world.client.post(url, content=body.encode(),
                                       headers={"content-type": "application/x-www-form-urlencoded"})
    if response.status_code < 400:  # a refused request changed nothing (that is the rule under test)
        await world.restore()
    return response


def _check(info: RouteInfo, url: str, fields: list[tuple[str, str]], response: httpx.Response) -> None:
    described = f"POST {url} {fields!r}"[:2000]
    if any("\x00" in name or "\x00" in value for name, value in fields):
        assert response.status_code == 400, f"a NUL got past the input guard: {response.status_code} {described}"
        assert response.json()["error"]["code"] == "invalid_characters", described
        return
    assert response.status_code < 500, f"{response.status_code} for {described}"


def test_every_post_form_is_fuzzed() -> None:
    paths = {info.path for info in ROUTES}
    assert {"/sign-out", "/switch-organization", "/settings/teams"} <= paths
    assert any(path.startswith("/backoffice/") for path in paths)


@pytest.mark.parametrize("info", ROUTES, ids=[info.path for info in ROUTES])
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate],  # no shrinking: the database moved on since the failure
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(data=st.data())
async def test_post_form_never_answers_5xx(info: RouteInfo, world: World, data: st.DataObject) -> None:
    url, fields = data.draw(form_requests(info, world), label="request")
    _check(info, url, fields, await _post(world, url, fields))


BOUNDARY_IDS = [0, -1, 2**63, 2**70, "x", "9" * 5_000]


@pytest.mark.parametrize("info", ROUTES, ids=[info.path for info in ROUTES])
async def test_post_form_boundaries(info: RouteInfo, world: World) -> None:
    """The same cases for every route, whatever Hypothesis draws: NUL in each field, boundary ids, no fields."""
    names = [param.alias for param in info.route.dependant.body_params]
    real = {name: str((world.ids.get(name) or [1])[0]) for name in PATH_PARAM.findall(info.path)}
    url = PATH_PARAM.sub(lambda m: real[m.group(1)], info.path)
    cases: list[tuple[str, list[tuple[str, str]]]] = [(url, []), (url, [("extra", "x" * 100_000)])]
    cases += [(url, [(name, "before\x00after")]) for name in names]
    cases += [(url, [(name, str(value))]) for name in names if name.endswith("_id") for value in BOUNDARY_IDS]
    for param in PATH_PARAM.findall(info.path):
        for value in BOUNDARY_IDS:
            bad = PATH_PARAM.sub(lambda m, p=param, v=value: quote(str(v)) if m.group(1) == p else real[m.group(1)],
                                 info.path)
            cases.append((bad, [(name, "1") for name in names]))
    for case_url, fields in cases:
        _check(info, case_url, fields, await _post(world, case_url, fields))


# -- 500s the fuzzer found once, kept as regression tests (one minimal request each) ---------------------------


async def test_fixed_5xx_second_team_with_the_same_non_ascii_name(world: World) -> None:
    first = await _post(world, "/settings/teams", [("name", "İstanbul Known Bug")])
    assert first.status_code == 303, first.status_code
    again = await _post(world, "/settings/teams", [("name", "İstanbul Known Bug")])
    assert again.status_code == 409, f"{again.status_code}: expected the duplicate-name error"


async def test_fixed_5xx_role_name_that_lower_case_lengthens(world: World) -> None:
    name = "İ" * 59 + "K"  # unique to this test
    response = await _post(world, "/settings/roles", [("name", name), ("permissions", "teams:read")])
    assert response.status_code < 500, f"{response.status_code}: the database refused the lower-cased name"
    async with world.runtime.sessionmaker() as session:
        stored = (await session.execute(select(Role.name).where(Role.name.startswith("i̇i̇")))).scalars().all()
    assert response.status_code == 422 or all(len(n) <= 60 for n in stored), (
        "a role name longer than its 60-character column was stored")


async def test_fixed_5xx_role_id_with_more_than_4300_digits(world: World) -> None:
    response = await _post(world, "/settings/members/invite", [("email", "x@example.com"), ("role_id", "9" * 4301)])
    assert response.status_code == 422, f"{response.status_code}: expected the 'Choose a role' form error"
