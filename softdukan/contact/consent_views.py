"""Settings → Opt-out keywords: the organization's own opt-out / opt-in words, the confirmation replies and the
template quick-reply buttons marked "stop promotions" (contact/keywords.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from softdukan.auth.settings_views import Text, flash_for, too_long, undo
from softdukan.auth.views import form_errors
from softdukan.contact.keywords import (
    BUILTIN_OPT_IN,
    BUILTIN_OPT_OUT,
    DEFAULT_OPT_IN_REPLY,
    DEFAULT_OPT_OUT_REPLY,
    REPLY_MAX,
    keyword_service,
    quick_replies,
)
from softdukan.dashboard.context import WebContext, WebRequires
from softdukan.dashboard.render import render
from softdukan.platform.deps import UoW
from softdukan.platform.errors import DomainError, Invalid
from softdukan.platform.uow import UnitOfWork

router = APIRouter(include_in_schema=False)
FLASH = {"saved": "Saved. Customers who send these words are opted out (or back in) at once."}
LIMITS = {"opt_out_words": 2000, "opt_in_words": 2000, "opt_out_reply": REPLY_MAX, "opt_in_reply": REPLY_MAX}
Marks = Annotated[list[str], Form()]


def _words(text: str) -> list[str]:
    return [w for w in text.replace("\r", "").replace(",", "\n").split("\n") if w.strip()]


def _marks(raw: list[str]) -> list[tuple[int, int]]:
    marks = []
    for value in raw:
        template_id, _, index = value.partition(":")
        if not (template_id.isdigit() and index.isdigit() and len(value) <= 24):
            raise Invalid("invalid_button", "Pick buttons from the list.", {"stop_buttons": "Pick from the list."})
        marks.append((int(template_id), int(index)))
    return marks


async def _page(request: Request, uow: UnitOfWork, web: WebContext, *, status_code: int = 200,
                **context: Any) -> Response:
    assert web.subject is not None
    keywords = await keyword_service.read(uow, web.subject)
    marked = {(m.template_id, m.button_index) for m in await keyword_service.marked_buttons(uow, web.subject)}
    templates = (await keyword_service.templates_with_quick_replies(uow, web.subject)
                 if web.can("templates:read") else [])
    ctx: dict[str, Any] = {
        "builtin_out": BUILTIN_OPT_OUT, "builtin_in": BUILTIN_OPT_IN, "default_out": DEFAULT_OPT_OUT_REPLY,
        "default_in": DEFAULT_OPT_IN_REPLY, "errors": {},
        "values": {"opt_out_words": "\n".join(keywords.opt_out_words),
                   "opt_in_words": "\n".join(keywords.opt_in_words),
                   "opt_out_reply": keywords.opt_out_reply if keywords.custom_opt_out_reply else "",
                   "opt_in_reply": keywords.opt_in_reply if keywords.custom_opt_in_reply else ""},
        "buttons": [(t, [(i, text, (t.id, i) in marked) for i, text in quick_replies(t)]) for t in templates]}
    ctx.update(context)
    return render(request, "contact/consent_settings.html", ctx, status_code=status_code)


@router.get("/settings/consent", response_class=HTMLResponse)
async def consent_page(request: Request, uow: UoW, web: WebRequires["contacts:read"],
                       flash: str | None = None) -> Response:
    return await _page(request, uow, web, flash=flash_for(FLASH, flash))


@router.post("/settings/consent", response_class=HTMLResponse)
async def save_consent(request: Request, uow: UoW, web: WebRequires["consent_settings:write"],
                       opt_out_words: Text = "", opt_in_words: Text = "", opt_out_reply: Text = "",
                       opt_in_reply: Text = "", stop_buttons: Marks | None = None) -> Response:
    assert web.subject is not None
    values = {"opt_out_words": opt_out_words, "opt_in_words": opt_in_words, "opt_out_reply": opt_out_reply,
              "opt_in_reply": opt_in_reply}
    try:
        too_long(values, LIMITS)
        await keyword_service.update(uow, web.subject, {
            "opt_out_words": _words(opt_out_words), "opt_in_words": _words(opt_in_words),
            "opt_out_reply": opt_out_reply, "opt_in_reply": opt_in_reply})
        if web.can("templates:read"):  # the page showed the buttons only then
            await keyword_service.set_stop_buttons(uow, web.subject, _marks(stop_buttons or []))
    except DomainError as exc:
        web = await undo(request, uow)
        message, errors = form_errors(exc)
        errors = {key.split("[")[0]: text for key, text in errors.items()}  # "opt_out_words[2]" → the textarea
        return await _page(request, uow, web, values=values, errors=errors, error=message, status_code=exc.status)
    return RedirectResponse("/settings/consent?flash=saved", status_code=303)
