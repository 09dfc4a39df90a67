"""Policy documents: the version in force at any moment, history, staff posting new versions (effective at once),
and the change notice a signed-in user sees until they dismiss it.

    version = await policy_service.in_force(uow, "refund_policy", at=uow.clock.now())   # cite version.number

Version 1 of each kind is seeded on first use (insert-or-ignore on (kind, number): safe to race). A user sees a
notice for a kind when its newest version took effect after the user signed up and is newer than the one they
last dismissed: versions older than the account are not news to its owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError

from softdukan.audit.service import audit_service
from softdukan.auth.models import User
from softdukan.backoffice.models import StaffUser
from softdukan.platform.errors import Conflict, Invalid, NotFound
from softdukan.platform.uow import UnitOfWork
from softdukan.policy.models import KINDS, PRIVACY, REFUND_POLICY, TERMS, PolicyVersion
from softdukan.policy.repository import PolicyRepository
from softdukan.policy.texts import SEED, SEED_EFFECTIVE_AT

# the name in sentences ("The Refund Policy changed …") and the path segment of the public pages
NAMES = {REFUND_POLICY: "Refund Policy", TERMS: "Terms of Service", PRIVACY: "Privacy Policy"}
SLUGS = {REFUND_POLICY: "refund-policy", TERMS: "terms", PRIVACY: "privacy"}
MAX_TITLE, MAX_BODY, MAX_SUMMARY = 200, 100_000, 1000
# raw HTML in a body is shown as text, never run: CommonMark with its HTML blocks and inline HTML turned off
_markdown = MarkdownIt("commonmark", {"html": False})


def kind_of(text: str) -> str:
    """'refund-policy', 'refund_policy' → 'refund_policy'; anything else is not found."""
    kind = text.strip().lower().replace("-", "_")
    if kind not in KINDS:
        raise NotFound("policy_not_found", f"There is no policy called '{text[:40]}'. "
                                           f"Known: {', '.join(SLUGS.values())}.")
    return kind


def render_body(body: str) -> Markup:
    return Markup(_markdown.render(body))  # markdown-it escapes raw HTML with "html" off


@dataclass(frozen=True)
class Notice:
    kind: str
    name: str
    slug: str
    number: int
    effective_at: datetime


class PolicyService:
    async def ensure_seeded(self, uow: UnitOfWork) -> None:
        await PolicyRepository(uow.session).insert_seed([
            {"kind": kind, "number": 1, "title": title, "body": body, "change_summary": "First published version.",
             "effective_at": SEED_EFFECTIVE_AT, "posted_by": None, "created_at": uow.clock.now()}
            for kind, (title, body) in SEED.items()])

    async def current(self, uow: UnitOfWork, kind: str) -> PolicyVersion:
        repository = PolicyRepository(uow.session)
        version = await repository.latest(kind)
        if version is None:
            await self.ensure_seeded(uow)
            version = await repository.latest(kind)
        assert version is not None
        return version

    async def current_of_each(self, uow: UnitOfWork) -> dict[str, PolicyVersion]:
        versions = await PolicyRepository(uow.session).latest_of_each()
        if len(versions) < len(KINDS):
            await self.ensure_seeded(uow)
            versions = await PolicyRepository(uow.session).latest_of_each()
        return versions

    async def in_force(self, uow: UnitOfWork, kind: str, at: datetime) -> PolicyVersion:
        """The version that governed `at` (what a refund decision made then records). Before the first version took
        effect, the first version: it is the baseline of every account."""
        if kind not in KINDS:
            raise NotFound("policy_not_found", f"There is no policy called '{kind[:40]}'.")
        await self.current(uow, kind)  # seeds on first use
        repository = PolicyRepository(uow.session)
        version = await repository.in_force(kind, at) or await repository.first(kind)
        assert version is not None
        return version

    async def history(self, uow: UnitOfWork, kind: str) -> list[PolicyVersion]:
        await self.current(uow, kind)
        return await PolicyRepository(uow.session).history(kind)

    async def version(self, uow: UnitOfWork, kind: str, number: int) -> PolicyVersion:
        await self.current(uow, kind)
        version = await PolicyRepository(uow.session).version(kind, number)
        if version is None:
            raise NotFound("policy_version_not_found", f"The {NAMES[kind]} has no version {number}.")
        return version

    async def post(self, uow: UnitOfWork, staff: StaffUser, kind: str, *, title: str, body: str,
                   change_summary: str, ip: str | None = None) -> PolicyVersion:
        """A new version, in force from now. Earlier versions stay as they were (they are cited by decisions)."""
        if kind not in KINDS:
            raise NotFound("policy_not_found", f"There is no policy called '{kind[:40]}'.")
        title, body, change_summary = title.strip(), body.strip(), change_summary.strip()
        errors = {}
        if not title:
            errors["title"] = "Give the document a title."
        elif len(title) > MAX_TITLE:
            errors["title"] = f"At most {MAX_TITLE} characters."
        if not body:
            errors["body"] = "The text of the new version is empty: paste the whole document."
        elif len(body) > MAX_BODY:
            errors["body"] = f"At most {MAX_BODY:,} characters."
        if not change_summary:
            errors["change_summary"] = "Say in a sentence what changed: customers see it in the history."
        elif len(change_summary) > MAX_SUMMARY:
            errors["change_summary"] = f"At most {MAX_SUMMARY} characters."
        if errors:
            raise Invalid("invalid_policy_version", next(iter(errors.values())), errors)
        await self.current(uow, kind)
        latest = await PolicyRepository(uow.session).latest(kind, for_update=True)
        assert latest is not None
        now = uow.clock.now()
        version = PolicyVersion(kind=kind, number=latest.number + 1, title=title, body=body,
                                change_summary=change_summary, effective_at=max(now, latest.effective_at),
                                posted_by=staff.id, created_at=now)
        uow.session.add(version)
        try:
            await uow.flush()
        except IntegrityError:  # another post took this number at the same moment
            raise Conflict("policy_version_taken", "Another version was posted at the same moment. Reload the page "
                                                   "and post again if it is still needed.") from None
        audit_service.record(uow, "policy.version_posted", actor_type="staff", actor_id=staff.id,
                             actor_label=staff.email, target=version,
                             target_label=f"{NAMES[kind]} version {version.number}", ip=ip, kind=kind,
                             number=version.number, change_summary=change_summary)
        return version

    async def notices(self, uow: UnitOfWork, user: User) -> list[Notice]:
        """Changes the user has not acknowledged, newest version of each kind."""
        seen = await PolicyRepository(uow.session).seen_by(user.id)
        return [Notice(kind, NAMES[kind], SLUGS[kind], v.number, v.effective_at)
                for kind, v in sorted((await self.current_of_each(uow)).items(), key=lambda kv: KINDS.index(kv[0]))
                if v.number > seen.get(kind, 0) and v.effective_at > user.created_at]

    async def dismiss(self, uow: UnitOfWork, user: User, kind: str, number: int) -> None:
        """Acknowledges version `number` (the one the notice showed) and every earlier one."""
        current = await self.current(uow, kind)
        if not 1 <= number <= current.number:
            raise NotFound("policy_version_not_found", f"The {NAMES[kind]} has no version {number}.")
        await PolicyRepository(uow.session).mark_seen(user.id, kind, number, uow.clock.now())


policy_service = PolicyService()
