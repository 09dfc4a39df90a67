"""Public pages (no sign-in): "Book a demo" at /demo and the contact form at /contact. Their forms are CSRF-checked
like every dashboard form (the cookie middleware gives any browser a token, no session needed)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from softdukan.auth.views import form_errors
from softdukan.dashboard.render import render
from softdukan.lead.models import CONTACT, DEMO
from softdukan.lead.service import LeadForm, lead_service, support_email
from softdukan.platform.deps import UoW, client_ip
from softdukan.platform.errors import DomainError
from softdukan.platform.uow import UnitOfWork

router = APIRouter(include_in_schema=False)
Field = Annotated[str, Form()]
# what is kept to show again on an error: generous, the service enforces the real limits
KEEP = 5000


def _page(request: Request, kind: str, *, status_code: int = 200, headers: dict[str, str] | None = None,
          **context: Any) -> Response:
    ctx: dict[str, Any] = {"values": {}, "errors": {}, "support_email": support_email(request.app.state.settings)}
    ctx.update(context)
    return render(request, f"lead/{kind}.html", ctx, status_code=status_code, headers=headers)


async def _submit(request: Request, uow: UnitOfWork, form: LeadForm) -> Response:
    try:
        await lead_service.submit(uow, form, ip=client_ip(request))
    except DomainError as exc:
        await uow.rollback()
        error, errors = form_errors(exc)
        values = {k: v[:KEEP] for k, v in vars(form).items() if k not in ("kind", "honeypot")}
        return _page(request, form.kind, status_code=exc.status, headers=exc.headers or None, error=error,
                     errors=errors, values=values)
    return RedirectResponse(f"/{form.kind}?sent=1", status_code=303)


@router.get("/demo", response_class=HTMLResponse)
async def demo_page(request: Request, sent: int = 0) -> Response:
    return _page(request, DEMO, sent=bool(sent))


@router.post("/demo", response_class=HTMLResponse)
async def book_demo(request: Request, uow: UoW, name: Field = "", business: Field = "", phone: Field = "",
                    preferred_time: Field = "", email: Field = "", message: Field = "",
                    website: Field = "") -> Response:
    return await _submit(request, uow, LeadForm(DEMO, name=name, business=business, phone=phone, email=email,
                                                preferred_time=preferred_time, message=message, honeypot=website))


@router.get("/contact", response_class=HTMLResponse)
async def contact_page(request: Request, sent: int = 0) -> Response:
    return _page(request, CONTACT, sent=bool(sent))


@router.post("/contact", response_class=HTMLResponse)
async def contact(request: Request, uow: UoW, name: Field = "", email: Field = "", message: Field = "",
                  website: Field = "") -> Response:
    return await _submit(request, uow, LeadForm(CONTACT, name=name, email=email, message=message,
                                                honeypot=website))
