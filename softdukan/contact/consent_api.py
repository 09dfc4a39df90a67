"""/v1/consent-settings: the organization's opt-out and opt-in keywords, confirmation replies and the template
quick-reply buttons marked "stop promotions" (contact/keywords.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from softdukan.auth.subject import Subject
from softdukan.contact.keywords import (
    BUILTIN_OPT_IN,
    BUILTIN_OPT_OUT,
    REPLY_MAX,
    WORD_MAX,
    WORDS_MAX,
    Keywords,
    keyword_service,
)
from softdukan.kit.ids import MAX_ID
from softdukan.platform.deps import Requires, UoW
from softdukan.platform.http import error_responses
from softdukan.platform.uow import UnitOfWork

router = APIRouter(tags=["contacts"])
Word = Annotated[str, Field(max_length=WORD_MAX * 2)]  # longer ones get the service's message naming the word


class StopButtonRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    template_id: int = Field(ge=1, le=MAX_ID)
    button_index: int = Field(ge=0, le=9, description="the quick-reply button's index among the template's buttons")


class StopButtonOut(StopButtonRef):
    template_name: str
    language: str
    button_text: str


class ConsentSettingsOut(BaseModel):
    builtin_opt_out_words: list[str] = Field(description="always opt out: STOP, UNSUBSCRIBE")
    builtin_opt_in_words: list[str] = Field(description="always opt in: START")
    opt_out_words: list[str] = Field(description="the organization's own opt-out words")
    opt_in_words: list[str]
    opt_out_reply: str = Field(description="the confirmation sent after an opt-out")
    opt_in_reply: str
    opt_out_reply_is_default: bool
    opt_in_reply_is_default: bool
    stop_buttons: list[StopButtonOut]


class ConsentSettingsPatch(BaseModel):
    """Only the fields given change. A reply of null or "" goes back to the default text."""

    model_config = ConfigDict(extra="forbid")
    opt_out_words: list[Word] | None = Field(default=None, max_length=WORDS_MAX * 2)
    opt_in_words: list[Word] | None = Field(default=None, max_length=WORDS_MAX * 2)
    opt_out_reply: str | None = Field(default=None, max_length=REPLY_MAX * 2)
    opt_in_reply: str | None = Field(default=None, max_length=REPLY_MAX * 2)
    stop_buttons: list[StopButtonRef] | None = Field(default=None, max_length=50, description=(
        "replaces the marked buttons: a tap on one opts the customer out of marketing"))


async def _out(uow: UnitOfWork, subject: Subject, keywords: Keywords) -> ConsentSettingsOut:
    marked = await keyword_service.marked_buttons(uow, subject)
    return ConsentSettingsOut(
        builtin_opt_out_words=list(BUILTIN_OPT_OUT), builtin_opt_in_words=list(BUILTIN_OPT_IN),
        opt_out_words=list(keywords.opt_out_words), opt_in_words=list(keywords.opt_in_words),
        opt_out_reply=keywords.opt_out_reply, opt_in_reply=keywords.opt_in_reply,
        opt_out_reply_is_default=not keywords.custom_opt_out_reply,
        opt_in_reply_is_default=not keywords.custom_opt_in_reply,
        stop_buttons=[StopButtonOut(template_id=m.template_id, button_index=m.button_index,
                                    template_name=m.template_name, language=m.language, button_text=m.button_text)
                      for m in marked])


@router.get("/consent-settings", response_model=ConsentSettingsOut, responses=error_responses())
async def get_consent_settings(uow: UoW, subject: Requires["contacts:read"]) -> ConsentSettingsOut:
    return await _out(uow, subject, await keyword_service.read(uow, subject))


@router.patch("/consent-settings", response_model=ConsentSettingsOut, responses=error_responses(404))
async def update_consent_settings(body: ConsentSettingsPatch, uow: UoW,
                                  subject: Requires["consent_settings:write"]) -> ConsentSettingsOut:
    changes = body.model_dump(exclude_unset=True, exclude={"stop_buttons"})
    for field in ("opt_out_words", "opt_in_words"):
        if field in changes and changes[field] is None:
            changes[field] = []  # null: no words of our own
    keywords = await keyword_service.update(uow, subject, changes)
    if body.stop_buttons is not None:
        await keyword_service.set_stop_buttons(uow, subject, [(b.template_id, b.button_index)
                                                              for b in body.stop_buttons])
    return await _out(uow, subject, keywords)
