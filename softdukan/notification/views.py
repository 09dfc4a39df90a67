"""The development mailbox: every outgoing e-mail, readable in the browser when SMTP is not configured."""

from __future__ import annotations

import re

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup, escape

from softdukan.auth.settings_views import MAX_ID, PathId
from softdukan.dashboard.context import current_user_context
from softdukan.dashboard.render import render
from softdukan.notification.repository import OutboundEmailRepository
from softdukan.platform.deps import UoW
from softdukan.platform.errors import NotFound

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 100
_URL = re.compile(r"https?://[^\s<>\"']+")
_TRAILING = ".,;:!?)]}"


def linkify(text: str) -> Markup:
    """Plain text with its http(s) links made clickable; everything else escaped."""
    html, last = Markup(""), 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        end = match.start() + len(url)
        html += escape(text[last:match.start()])
        html += Markup('<a href="{0}" target="_blank" rel="noopener noreferrer">{0}</a>').format(url)
        last = end
    return html + escape(text[last:])


def _require_mailbox(request: Request) -> None:
    if not request.app.state.settings.mailbox_on:
        raise NotFound("not_found", "Not found.")


# No sign-in: this is the local mail catcher, so someone who is not signed in yet can open their invitation or
# password-reset link. It exists only while mailbox_on (SMTP not configured, or MAILBOX_ENABLED=true).
@router.get("/mailbox", response_class=HTMLResponse)
async def mailbox(request: Request, uow: UoW, before_id: int | None = Query(None, ge=1, le=MAX_ID)) -> Response:
    _require_mailbox(request)
    await current_user_context(request, uow)  # signed-in visitors keep their navigation
    emails = await OutboundEmailRepository(uow.session).newest(limit=PAGE_SIZE + 1, before_id=before_id)
    older = emails[PAGE_SIZE - 1].id if len(emails) > PAGE_SIZE else None
    return render(request, "notification/mailbox.html",
                  {"emails": emails[:PAGE_SIZE], "older": older, "paged": before_id is not None,
                   "smtp_configured": request.app.state.settings.smtp_url is not None})


@router.get("/mailbox/{email_id}", response_class=HTMLResponse)
async def mailbox_email(request: Request, uow: UoW, email_id: PathId) -> Response:
    _require_mailbox(request)
    await current_user_context(request, uow)
    email = await OutboundEmailRepository(uow.session).by_id(email_id)
    if email is None:
        raise NotFound("email_not_found", "No such e-mail in the mailbox.")
    # links in the HTML body open in a new tab; the sandboxed frame runs no scripts and has no access to this page
    srcdoc = '<base target="_blank">' + (email.body_html or "")
    return render(request, "notification/email.html",
                  {"email": email, "srcdoc": srcdoc, "text_html": linkify(email.body_text),
                   "smtp_configured": request.app.state.settings.smtp_url is not None})
