"""Opt-out and opt-in keywords (issue 4 item 2): which words count, the confirmation replies, and the template
quick-reply buttons marked "stop promotions". Storage and the per-message record: contact/consent_models.py; what
happens on an inbound message: contact/consent_inbound.py. Services never commit.

A keyword matches the WHOLE message, in any case, after trimming and collapsing inner spaces: "STOP", " stop ",
"Stop" opt out; "please stop" does not. STOP and UNSUBSCRIBE (opt out) and START (opt in) always work; the
organization adds its own words (e.g. "band karo", "रोकें").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select

from softdukan.auth.subject import Subject
from softdukan.contact.consent_models import ConsentSettings, InboundConsentAction, StopButton
from softdukan.kit.repository import Repository
from softdukan.platform.errors import Invalid, NotFound
from softdukan.platform.uow import UnitOfWork
from softdukan.template.models import MessageTemplate
from softdukan.template.service import template_service

BUILTIN_OPT_OUT = ("STOP", "UNSUBSCRIBE")
BUILTIN_OPT_IN = ("START",)
DEFAULT_OPT_OUT_REPLY = ("You're unsubscribed: you won't get promotional messages from us any more. "
                         "Reply START to subscribe again.")
DEFAULT_OPT_IN_REPLY = "You're subscribed again. Reply STOP at any time to unsubscribe."
WORD_MAX, WORDS_MAX, REPLY_MAX = 40, 30, 1000


def normalize(text: str | None) -> str:
    """How a message is compared with the words: trimmed, inner spaces collapsed, case-folded."""
    return " ".join((text or "").split()).casefold()


@dataclass(frozen=True)
class Keywords:
    """An organization's effective consent settings."""

    opt_out_words: tuple[str, ...]  # the organization's own (the built-in ones are always on)
    opt_in_words: tuple[str, ...]
    opt_out_reply: str
    opt_in_reply: str
    custom_opt_out_reply: bool = False
    custom_opt_in_reply: bool = False

    def match(self, *texts: str | None) -> tuple[str, str] | None:
        """("opt_out" | "opt_in", the matched word) if one of `texts` is a keyword; opt-out wins over opt-in."""
        said = [normalize(t) for t in texts if t and normalize(t)]
        for kind, words in (("opt_out", (*BUILTIN_OPT_OUT, *self.opt_out_words)),
                            ("opt_in", (*BUILTIN_OPT_IN, *self.opt_in_words))):
            folded = {normalize(w) for w in words}
            for text in said:
                if text in folded:
                    return kind, text
        return None


@dataclass(frozen=True)
class MarkedButton:
    template_id: int
    template_name: str
    language: str
    button_index: int
    button_text: str


def quick_replies(template: MessageTemplate) -> list[tuple[int, str]]:
    """(index, text) of the template's QUICK_REPLY buttons; the index counts every button, as Meta's does."""
    for component in template.components or []:
        if isinstance(component, dict) and str(component.get("type", "")).upper() == "BUTTONS":
            buttons = component.get("buttons") or []
            return [(i, str(b.get("text", ""))) for i, b in enumerate(buttons)
                    if isinstance(b, dict) and str(b.get("type", "")).upper() == "QUICK_REPLY"]
    return []


class ConsentRepository(Repository[ConsentSettings]):
    model = ConsentSettings

    async def settings(self, organization_id: int) -> ConsentSettings | None:
        return await self.one_or_none(select(ConsentSettings).where(
            ConsentSettings.organization_id == organization_id))

    async def stop_buttons(self, organization_id: int) -> list[StopButton]:
        return list((await self.session.execute(select(StopButton).where(
            StopButton.organization_id == organization_id).order_by(StopButton.template_id,
                                                                     StopButton.button_index))).scalars())

    async def is_stop_button(self, organization_id: int, template_id: int, button_index: int) -> bool:
        return (await self.session.execute(select(StopButton.id).where(
            StopButton.organization_id == organization_id, StopButton.template_id == template_id,
            StopButton.button_index == button_index))).first() is not None

    async def replace_stop_buttons(self, organization_id: int, marks: Sequence[tuple[int, int]]) -> None:
        await self.session.execute(delete(StopButton).where(StopButton.organization_id == organization_id))
        for template_id, index in sorted(set(marks)):
            self.session.add(StopButton(organization_id=organization_id, template_id=template_id,
                                        button_index=index))

    async def action_of(self, organization_id: int, message_id: int) -> InboundConsentAction | None:
        return (await self.session.execute(select(InboundConsentAction).where(
            InboundConsentAction.organization_id == organization_id,
            InboundConsentAction.message_id == message_id))).scalars().first()


def _words(raw: Sequence[str], field: str, builtin: Sequence[str]) -> list[str]:
    words: list[str] = []
    for i, word in enumerate(raw):
        clean = " ".join(str(word).split())
        if not clean:
            continue
        if len(clean) > WORD_MAX:
            raise Invalid("invalid_keyword", f"“{clean[:WORD_MAX]}…” is longer than {WORD_MAX} characters.",
                          {f"{field}[{i}]": f"At most {WORD_MAX} characters."})
        if normalize(clean) in {normalize(w) for w in (*builtin, *words)}:
            continue  # a repeat, or a word that always works
        words.append(clean)
    if len(words) > WORDS_MAX:
        raise Invalid("too_many_keywords", f"Give at most {WORDS_MAX} words.", {field: f"At most {WORDS_MAX}."})
    return words


def _reply(raw: str | None, field: str) -> str | None:
    text = (raw or "").strip()
    if len(text) > REPLY_MAX:
        raise Invalid("reply_too_long", f"The reply is longer than {REPLY_MAX} characters.",
                      {field: f"At most {REPLY_MAX} characters."})
    return text or None  # empty: back to the default


class KeywordService:
    async def keywords(self, uow: UnitOfWork, organization_id: int) -> Keywords:
        """The effective settings (defaults when the organization saved none). No permission: routing uses it."""
        row = await ConsentRepository(uow.session).settings(organization_id)
        if row is None:
            return Keywords((), (), DEFAULT_OPT_OUT_REPLY, DEFAULT_OPT_IN_REPLY)
        return Keywords(tuple(row.opt_out_words or ()), tuple(row.opt_in_words or ()),
                        row.opt_out_reply or DEFAULT_OPT_OUT_REPLY, row.opt_in_reply or DEFAULT_OPT_IN_REPLY,
                        row.opt_out_reply is not None, row.opt_in_reply is not None)

    async def read(self, uow: UnitOfWork, subject: Subject) -> Keywords:
        subject.require("contacts:read")
        return await self.keywords(uow, subject.organization_id)

    async def update(self, uow: UnitOfWork, subject: Subject, changes: dict[str, Any]) -> Keywords:
        """Saves the given fields (opt_out_words, opt_in_words: lists; opt_out_reply, opt_in_reply: text or None for
        the default). A word may not be both an opt-out and an opt-in word."""
        subject.require("consent_settings:write")
        repo = ConsentRepository(uow.session)
        row = await repo.settings(subject.organization_id)
        if row is None:
            row = repo.add(ConsentSettings(organization_id=subject.organization_id, opt_out_words=[], opt_in_words=[],
                                           created_at=uow.clock.now()))
        out_words = (_words(changes["opt_out_words"], "opt_out_words", BUILTIN_OPT_OUT)
                     if "opt_out_words" in changes else list(row.opt_out_words or []))
        in_words = (_words(changes["opt_in_words"], "opt_in_words", BUILTIN_OPT_IN)
                    if "opt_in_words" in changes else list(row.opt_in_words or []))
        both = {normalize(w) for w in (*BUILTIN_OPT_OUT, *out_words)} & {normalize(w)
                                                                        for w in (*BUILTIN_OPT_IN, *in_words)}
        if both:
            word = sorted(both)[0]
            raise Invalid("keyword_in_both_lists", f"“{word}” can't both opt out and opt in.",
                          {"opt_in_words": f"Remove “{word}” from one of the lists."})
        row.opt_out_words, row.opt_in_words = out_words, in_words
        for field in ("opt_out_reply", "opt_in_reply"):
            if field in changes:
                setattr(row, field, _reply(changes[field], field))
        row.updated_at = uow.clock.now()
        await uow.flush()
        return await self.keywords(uow, subject.organization_id)

    # -- stop-promotions buttons -----------------------------------------------------------------------------------

    async def marked_buttons(self, uow: UnitOfWork, subject: Subject) -> list[MarkedButton]:
        if not subject.can("consent_settings:write"):  # who may change them may see them
            subject.require("contacts:read")
        marked = []
        for mark in await ConsentRepository(uow.session).stop_buttons(subject.organization_id):
            template = await self.template_of(uow, subject, mark.template_id)
            text = dict(quick_replies(template)).get(mark.button_index, "")
            marked.append(MarkedButton(template.id, template.name, template.language, mark.button_index, text))
        return marked

    async def set_stop_buttons(self, uow: UnitOfWork, subject: Subject, marks: Sequence[tuple[int, int]]
                               ) -> list[MarkedButton]:
        """Replaces the organization's marked buttons; each must be a QUICK_REPLY button of its template."""
        subject.require("consent_settings:write")
        for i, (template_id, index) in enumerate(marks):
            template = await self.template_of(uow, subject, template_id)
            if index not in dict(quick_replies(template)):
                raise Invalid("not_a_quick_reply", f"Button {index} of template “{template.name}” is not a "
                                                   "quick-reply button.",
                              {f"stop_buttons[{i}].button_index": "Pick a quick-reply button of the template."})
        await ConsentRepository(uow.session).replace_stop_buttons(subject.organization_id, marks)
        await uow.flush()
        return await self.marked_buttons(uow, subject)

    async def template_of(self, uow: UnitOfWork, subject: Subject, template_id: int) -> MessageTemplate:
        # read through the template domain's service with the org's read right: marks are a contact setting
        reader = Subject(kind=subject.kind, organization_id=subject.organization_id,
                         permissions=frozenset({"templates:read"}), label=subject.label)
        try:
            return await template_service.get(uow, reader, template_id)
        except NotFound:
            raise NotFound("template_not_found", "No such template in this organization.",
                           {"template_id": template_id}) from None

    async def templates_with_quick_replies(self, uow: UnitOfWork, subject: Subject) -> list[MessageTemplate]:
        """The organization's templates that have quick-reply buttons (the settings page lists them)."""
        reader = Subject(kind=subject.kind, organization_id=subject.organization_id,
                         permissions=frozenset({"templates:read"}), label=subject.label)
        found: list[MessageTemplate] = []
        after: int | None = None
        while True:
            page = await template_service.list(uow, reader, after_id=after, limit=200)
            found += [t for t in page if quick_replies(t)]
            if len(page) < 200:
                return found
            after = page[-1].id

    async def automations_allowed(self, uow: UnitOfWork, organization_id: int, message_id: int) -> bool:
        """False when consent handled this inbound message (a keyword, a marked button) or it came from a blocked
        contact: the automation engine must not act on it."""
        action = await ConsentRepository(uow.session).action_of(organization_id, message_id)
        return action is None or action.route_to_automations


keyword_service = KeywordService()
