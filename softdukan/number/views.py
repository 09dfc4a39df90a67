"""Dashboard pages: the numbers list and detail, and the "Connect WhatsApp" wizard.

The wizard's state is the number's `onboarding_step`: /numbers/{id}/connect always shows the next step,
so leaving and coming back resumes it. Each step posts to its own route and calls the same service
function as /v1; Meta's refusals come back as the step's error, with Meta's code and message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from softdukan.auth.settings_views import PathId, Text, flash_for, parse_id, too_long, undo
from softdukan.auth.subject import Subject
from softdukan.auth.views import form_errors
from softdukan.dashboard.context import WebContext, WebRequires
from softdukan.dashboard.render import render
from softdukan.number.graph import bind_local_app
from softdukan.number.models import STEP_DONE
from softdukan.number.onboarding import STEP_LABELS, onboarding_service
from softdukan.number.service import NumberView, number_service
from softdukan.platform.deps import UoW
from softdukan.platform.errors import DomainError
from softdukan.platform.uow import UnitOfWork

router = APIRouter(include_in_schema=False, dependencies=[Depends(bind_local_app)])

FLASH = {"account_connected": "Your WhatsApp Business account is connected. Now add a phone number.",
         "number_added": "The number was added. Verify it with a code.",
         "code_sent": "The code is on its way.", "verified": "The number is verified.",
         "registered": "The number is registered with the WhatsApp Cloud API.",
         "subscribed": "Webhooks are subscribed: messages and statuses will arrive here.",
         "display_name": "The new display name was sent to Meta for review.",
         "history": "Your choice about chat history was saved.", "connected": "The number is connected.",
         "refreshed": "Refreshed from Meta.", "default": "This number is now the default for sending."}
LIMITS = {"business_name": 200, "waba_name": 200, "phone_number": 40, "verified_name": 200, "display_name": 200,
          "code": 20, "pin": 20, "method": 10}


def _who(web: WebContext) -> Subject:
    assert web.subject is not None
    return web.subject


def _flash(code: str | None) -> str | None:
    return flash_for(FLASH, code)


@router.get("/numbers", response_class=HTMLResponse)
async def numbers_page(request: Request, uow: UoW, web: WebRequires["numbers:read"], flash: str | None = None
                       ) -> Response:
    assert web.subject is not None
    return render(request, "number/numbers.html", {"numbers": await number_service.list(uow, web.subject),
                                                   "step_labels": STEP_LABELS, "flash": _flash(flash)})


# -- wizard start: account (embedded signup), then a number -------------------------------------------------


async def _connect_page(request: Request, uow: UnitOfWork, web: WebContext, *, status_code: int = 200,
                        **context: Any) -> Response:
    assert web.subject is not None
    page: dict[str, Any] = {"accounts": await number_service.accounts(uow, web.subject), "values": {}, "errors": {},
                            "form": None, "error": None, "sandbox": uow.settings.sandbox,
                            "mode": request.query_params.get("mode", "new")}
    page.update(context)
    return render(request, "number/connect.html", page, status_code=status_code)


@router.get("/numbers/connect", response_class=HTMLResponse)
async def connect_page(request: Request, uow: UoW, web: WebRequires["numbers:write"], flash: str | None = None
                       ) -> Response:
    return await _connect_page(request, uow, web, flash=_flash(flash))


async def _start_step(request: Request, uow: UnitOfWork, web: WebContext, form: str, values: dict[str, str],
                      action: Callable[[], Awaitable[str]]) -> Response:
    try:
        too_long(values, LIMITS)
        return RedirectResponse(await action(), status_code=303)
    except DomainError as exc:
        web = await undo(request, uow)
        message, errors = form_errors(exc)
        return await _connect_page(request, uow, web, values=values, errors=errors, error=message, form=form,
                                   mode=values.get("mode", "new"), status_code=exc.status)


@router.post("/numbers/connect/account", response_class=HTMLResponse)
async def connect_account(request: Request, uow: UoW, web: WebRequires["numbers:write"], business_name: Text = "",
                          waba_name: Text = "", mode: Text = "new") -> Response:
    subject = web.subject
    assert subject is not None

    async def run() -> str:
        account = await onboarding_service.connect_account(uow, subject, business_name=business_name,
                                                           waba_name=waba_name or business_name)
        kind = "migration" if mode == "migration" else "new"
        return f"/numbers/connect?flash=account_connected&mode={kind}#account-{account.id}"

    return await _start_step(request, uow, web, "account",
                             {"business_name": business_name, "waba_name": waba_name, "mode": mode}, run)


@router.post("/numbers/connect/number", response_class=HTMLResponse)
async def add_number(request: Request, uow: UoW, web: WebRequires["numbers:write"], account_id: Text = "",
                     phone_number: Text = "", verified_name: Text = "", mode: Text = "new") -> Response:
    subject = web.subject
    assert subject is not None

    async def run() -> str:
        view = await onboarding_service.add_number(uow, subject, parse_id(account_id, "account_id", "an account"),
                                                   phone_number=phone_number, verified_name=verified_name,
                                                   migrate=mode == "migration")
        return f"/numbers/{view.number.id}/connect?flash=number_added"

    return await _start_step(request, uow, web, "number", {"account_id": account_id, "phone_number": phone_number,
                                                           "verified_name": verified_name, "mode": mode}, run)


@router.post("/numbers/connect/coexistence", response_class=HTMLResponse)
async def connect_coexistence(request: Request, uow: UoW, web: WebRequires["numbers:write"], business_name: Text = "",
                              phone_number: Text = "") -> Response:
    subject = web.subject
    assert subject is not None

    async def run() -> str:
        view = await onboarding_service.connect_coexistence(uow, subject, business_name=business_name,
                                                            waba_name=business_name, phone_number=phone_number)
        return f"/numbers/{view.number.id}/connect?flash=number_added"

    return await _start_step(request, uow, web, "coexistence",
                             {"business_name": business_name, "phone_number": phone_number, "mode": "coexistence"},
                             run)


# -- one number: detail and its wizard ---------------------------------------------------------------------


@router.get("/numbers/{number_id}", response_class=HTMLResponse)
async def number_page(request: Request, uow: UoW, web: WebRequires["numbers:read"], number_id: PathId,
                      flash: str | None = None) -> Response:
    assert web.subject is not None
    return await _number_page(request, uow, web, number_id, flash=_flash(flash))


@router.get("/numbers/{number_id}/row", response_class=HTMLResponse)
async def number_row(request: Request, uow: UoW, web: WebRequires["numbers:read"], number_id: PathId) -> Response:
    """One row of the numbers table: re-fetched when a number.updated / number.account_updated event arrives."""
    assert web.subject is not None
    view = await number_service.get(uow, web.subject, number_id)
    return render(request, "number/_row.html", {"view": view, "step_labels": STEP_LABELS})


@router.get("/numbers/{number_id}/detail", response_class=HTMLResponse)
async def number_detail(request: Request, uow: UoW, web: WebRequires["numbers:read"], number_id: PathId) -> Response:
    """The number page's body: re-fetched live like the row."""
    assert web.subject is not None
    view = await number_service.get(uow, web.subject, number_id)
    return render(request, "number/_detail.html", {"view": view, "number": view.number, "account": view.account,
                                                   "step_labels": STEP_LABELS})


async def _number_page(request: Request, uow: UnitOfWork, web: WebContext, number_id: int, *, status_code: int = 200,
                       **context: Any) -> Response:
    assert web.subject is not None
    view = await number_service.get(uow, web.subject, number_id)
    page: dict[str, Any] = {"view": view, "number": view.number, "account": view.account, "step_labels": STEP_LABELS}
    page.update(context)
    return render(request, "number/number.html", page, status_code=status_code)


async def _wizard_page(request: Request, uow: UnitOfWork, web: WebContext, number_id: int, *, status_code: int = 200,
                       **context: Any) -> Response:
    assert web.subject is not None
    view: NumberView = await number_service.get(uow, web.subject, number_id)
    hint = await onboarding_service.sandbox_code_hint(uow, web.subject, number_id)
    page: dict[str, Any] = {"view": view, "number": view.number, "account": view.account, "code_hint": hint,
                            "step_labels": STEP_LABELS, "values": {}, "errors": {}, "error": None}
    page.update(context)
    return render(request, "number/wizard.html", page, status_code=status_code)


@router.get("/numbers/{number_id}/connect", response_class=HTMLResponse)
async def wizard_page(request: Request, uow: UoW, web: WebRequires["numbers:write"], number_id: PathId,
                      flash: str | None = None) -> Response:
    assert web.subject is not None
    view = await number_service.get(uow, web.subject, number_id)
    if view.number.onboarding_step == STEP_DONE:
        return RedirectResponse(f"/numbers/{number_id}?flash={flash or 'connected'}", status_code=303)
    return await _wizard_page(request, uow, web, number_id, flash=_flash(flash))


async def _step(request: Request, uow: UnitOfWork, web: WebContext, number_id: int, values: dict[str, str],
                action: Callable[[], Awaitable[object]], flash: str, *, back_to: str = "wizard") -> Response:
    """Run one step; a refusal (ours or Meta's) re-renders the page with the reason and its status."""
    try:
        too_long(values, LIMITS)
        await action()
    except DomainError as exc:
        web = await undo(request, uow)
        message, errors = form_errors(exc)
        errors = {k: v for k, v in errors.items() if not k.startswith(("meta_", "fbtrace"))}
        page = _wizard_page if back_to == "wizard" else _number_page
        return await page(request, uow, web, number_id, values=values, errors=errors, error=message,
                          status_code=exc.status)
    target = f"/numbers/{number_id}/connect" if back_to == "wizard" else f"/numbers/{number_id}"
    return RedirectResponse(f"{target}?flash={flash}", status_code=303)


@router.post("/numbers/{number_id}/connect/request-code", response_class=HTMLResponse)
async def request_code(request: Request, uow: UoW, web: WebRequires["numbers:write"], number_id: PathId,
                       method: Text = "SMS") -> Response:
    subject = _who(web)
    return await _step(request, uow, web, number_id, {"method": method},
                       lambda: onboarding_service.request_code(uow, subject, number_id, method=method),
                       "code_sent")


@router.post("/numbers/{number_id}/connect/verify", response_class=HTMLResponse)
async def verify_code(request: Request, uow: UoW, web: WebRequires["numbers:write"], number_id: PathId,
                      code: Text = "") -> Response:
    subject = _who(web)
    return await _step(request, uow, web, number_id, {"code": code},
                       lambda: onboarding_service.verify_code(uow, subject, number_id, code),
                       "verified")


@router.post("/numbers/{number_id}/connect/register", response_class=HTMLResponse)
async def register(request: Request, uow: UoW, web: WebRequires["numbers:write"], number_id: PathId,
                   pin: Text = "") -> Response:
    subject = _who(web)
    return await _step(request, uow, web, number_id, {},  # a PIN is never echoed back into the page
                       lambda: onboarding_service.register(uow, subject, number_id, pin),
                       "registered")


@router.post("/numbers/{number_id}/connect/subscribe", response_class=HTMLResponse)
async def subscribe(request: Request, uow: UoW, web: WebRequires["numbers:write"], number_id: PathId) -> Response:
    subject = _who(web)
    return await _step(request, uow, web, number_id, {},
                       lambda: onboarding_service.subscribe(uow, subject, number_id),
                       "subscribed")


@router.post("/numbers/{number_id}/connect/display-name", response_class=HTMLResponse)
async def display_name(request: Request, uow: UoW, web: WebRequires["numbers:write"], number_id: PathId,
                       display_name: Text = "") -> Response:
    subject = _who(web)
    return await _step(request, uow, web, number_id, {"display_name": display_name},
                       lambda: onboarding_service.set_display_name(uow, subject, number_id, display_name),
                       "display_name")


@router.post("/numbers/{number_id}/connect/history", response_class=HTMLResponse)
async def history(request: Request, uow: UoW, web: WebRequires["numbers:write"], number_id: PathId,
                  accept: Text = "") -> Response:
    subject = _who(web)
    return await _step(request, uow, web, number_id, {},
                       lambda: onboarding_service.history_import(uow, subject, number_id, accept=accept == "yes"),
                       "history")


@router.post("/numbers/{number_id}/connect/finish", response_class=HTMLResponse)
async def finish(request: Request, uow: UoW, web: WebRequires["numbers:write"], number_id: PathId) -> Response:
    subject = _who(web)
    return await _step(request, uow, web, number_id, {},
                       lambda: onboarding_service.finish(uow, subject, number_id),
                       "connected", back_to="number")


@router.post("/numbers/{number_id}/refresh", response_class=HTMLResponse)
async def refresh(request: Request, uow: UoW, web: WebRequires["numbers:write"], number_id: PathId) -> Response:
    subject = _who(web)
    return await _step(request, uow, web, number_id, {},
                       lambda: number_service.refresh(uow, subject, number_id),
                       "refreshed", back_to="number")


@router.post("/numbers/{number_id}/default", response_class=HTMLResponse)
async def make_default(request: Request, uow: UoW, web: WebRequires["numbers:write"], number_id: PathId) -> Response:
    subject = _who(web)
    return await _step(request, uow, web, number_id, {},
                       lambda: number_service.make_default(uow, subject, number_id),
                       "default", back_to="number")
