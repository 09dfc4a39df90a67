"""`/sandbox/phone`: pick a sandbox business number and a virtual customer, then chat as that customer.

Mounted by create_app only when `settings.sandbox` is on. No product sign-in (the page plays the customers, like
Meta's test phone); every POST is CSRF-checked with the dashboard's token. HTMX posts get the thread fragment
back (errors go to the page's alert with a 4xx status); plain form posts are answered with a redirect, or the page
with the error. Opening or refreshing the chat marks the business's messages read, as a real phone does, unless
"chat open" is switched off.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import BaseLoader, ChoiceLoader, FileSystemLoader
from markupsafe import escape
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from softdukan.dashboard import csrf
from softdukan.dashboard.render import templates as dashboard_templates
from softdukan.platform.deps import UoW
from softdukan.platform.errors import DomainError
from softdukan.platform.uow import UnitOfWork
from softdukan.sandbox import service
from softdukan.sandbox.graph.errors import GraphFault
from softdukan.sandbox.service.customers import phone_by_id
from softdukan.sandbox.simulator import actions
from softdukan.sandbox.simulator.actions import PhoneError
from softdukan.sandbox.simulator.bubbles import bubbles

router = APIRouter(prefix="/sandbox/phone", include_in_schema=False)
_loaders: list[BaseLoader] = [FileSystemLoader(str(Path(__file__).parent / "templates"))]
if dashboard_templates.env.loader is not None:  # _head.html, _forms.html and the rest of the dashboard's
    _loaders.append(dashboard_templates.env.loader)
_env = dashboard_templates.env.overlay(loader=ChoiceLoader(_loaders))
pages = Jinja2Templates(env=_env)


NOT_CONNECTED = "That business number is not in the sandbox, or not connected yet. Pick one from the list."


def _fault_message(fault: GraphFault) -> str:
    if fault.code == 100 and "phone number id" in fault.details.lower():
        return NOT_CONNECTED
    return fault.details


def _chat_url(phone_number_id: str, wa_id: str, **extra: Any) -> str:
    return "/sandbox/phone?" + urlencode({"phone_number_id": phone_number_id, "wa_id": wa_id, **extra})


def _media_url(phone_number_id: str) -> Callable[[str], str]:
    return lambda media_id: f"/sandbox/phone/media/{media_id}?" + urlencode({"phone_number_id": phone_number_id})


async def _thread(uow: UnitOfWork, phone_number_id: str, wa_id: str, *, read: bool) -> dict[str, Any]:
    """The chat's state; opening it (read=True) first marks what the business sent as read."""
    phone = await phone_by_id(uow, phone_number_id)
    customer = await service.upsert_customer(uow, wa_id)
    if read:
        await service.customer_reads(uow, customer.wa_id, phone_number_id=phone_number_id)
    views = await service.thread(uow, customer.wa_id, phone_number_id=phone_number_id)
    shown = bubbles(views, await actions.templates_for(uow, phone, views), _media_url(phone_number_id))
    fingerprint = hashlib.sha256(repr([(b["wamid"], b["status"], b["reactions"]) for b in shown]).encode()).hexdigest()
    return {
        "phone": phone,
        "customer": customer,
        "bubbles": shown,
        "fingerprint": fingerprint[:16],
        "read": read,
        "poll_url": "/sandbox/phone/thread?" + urlencode({
            "phone_number_id": phone_number_id, "wa_id": customer.wa_id, "read": "1" if read else "0",
            "v": fingerprint[:16]}),
    }


def _render(request: Request, name: str, context: dict[str, Any], *, status_code: int = 200,
            headers: dict[str, str] | None = None) -> HTMLResponse:
    ctx = {"request": request, "csrf_token": getattr(request.state, "csrf_token", ""), **context}
    return pages.TemplateResponse(request, name, ctx, status_code=status_code, headers=headers)


async def _page(request: Request, uow: UnitOfWork, *, phone_number_id: str = "", wa_id: str = "", read: bool = True,
                error: str = "", status_code: int = 200, form: dict[str, Any] | None = None) -> HTMLResponse:
    numbers = await actions.business_numbers(uow)
    context: dict[str, Any] = {"numbers": numbers, "selected": phone_number_id, "wa_id": wa_id, "error": error,
                               "chat": None, "customers": [], "form": form or {}}
    if phone_number_id and phone_number_id not in {n.phone_number_id for n in numbers}:
        context.update(error=error or NOT_CONNECTED, selected="", wa_id="")
        return _render(request, "sandbox_phone/page.html", context, status_code=max(status_code, 404))
    if phone_number_id:
        try:
            context["customers"] = await service.list_customers(uow)
            if wa_id:
                context["chat"] = await _thread(uow, phone_number_id, wa_id, read=read)
        except GraphFault as fault:
            await uow.rollback()
            context.update(error=context["error"] or _fault_message(fault), chat=None)
            if fault.code == 100:  # the number is unknown: back to the number picker
                context.update(selected="", wa_id="")
            else:  # a bad customer id: back to the customer picker
                context["wa_id"] = ""
            status_code = max(status_code, 404 if fault.code == 100 else 400)
    return _render(request, "sandbox_phone/page.html", context, status_code=status_code)


@router.get("", response_class=HTMLResponse)
async def phone_page(request: Request, uow: UoW, phone_number_id: str = "", wa_id: str = "",
                     read: str = "1") -> HTMLResponse:
    return await _page(request, uow, phone_number_id=phone_number_id.strip(), wa_id=wa_id.strip(), read=read != "0")


@router.get("/thread", response_class=HTMLResponse)
async def thread_fragment(request: Request, uow: UoW, phone_number_id: str = "", wa_id: str = "", read: str = "1",
                          v: str = "") -> Response:
    """The chat for HTMX polling: 204 (nothing to swap) when it has not changed since fingerprint `v`."""
    try:
        chat = await _thread(uow, phone_number_id, wa_id, read=read != "0")
    except GraphFault as fault:
        await uow.rollback()
        return _error_fragment(_fault_message(fault), 404 if fault.code == 100 else 400)
    if v and v == chat["fingerprint"]:
        return Response(status_code=204)
    return _render(request, "sandbox_phone/_thread.html", {"chat": chat})


def _error_fragment(message: str, status: int) -> HTMLResponse:
    return HTMLResponse(f'<div class="alert alert-danger py-2 mb-2" role="alert">{escape(message)}</div>',
                        status_code=status, headers={"HX-Retarget": "#phone-error", "HX-Reswap": "innerHTML"})


async def _form(request: Request) -> FormData:
    try:
        return await request.form(max_files=2, max_fields=30)
    except Exception:  # a broken multipart body is bad input, not a crash
        raise PhoneError("The form could not be read; reload the page and try again.") from None


def _field(form: FormData, key: str) -> str:
    value = form.get(key)
    return value if isinstance(value, str) else ""


async def _act(request: Request, uow: UnitOfWork,
               action: Callable[[FormData, str, str], Awaitable[str | None]]) -> Response:
    """CSRF check, run one customer action, answer HTMX with the fresh thread and forms with a redirect.

    An action may return a URL to go to instead (a full page load, also for HTMX)."""
    htmx = bool(request.headers.get("hx-request"))
    phone_number_id = wa_id = ""
    form: FormData | None = None
    try:
        await csrf.verify(request, request.app.state.settings.softdukan_secret_key)
        form = await _form(request)
        phone_number_id, wa_id = _field(form, "phone_number_id").strip(), _field(form, "wa_id").strip()
        if not phone_number_id:
            raise PhoneError("Pick a business number first.")
        if not wa_id:
            raise PhoneError("Pick or create a customer first.")
        goto = await action(form, phone_number_id, wa_id)
    except (PhoneError, GraphFault, DomainError, StarletteHTTPException) as exc:
        await uow.rollback()
        if isinstance(exc, GraphFault):
            message, status = _fault_message(exc), (404 if exc.code == 100 else 400)
        elif isinstance(exc, StarletteHTTPException):  # e.g. a multipart body Starlette cannot parse
            message, status = "The form could not be read; reload the page and try again.", 400
        else:
            message, status = exc.message, exc.status
        if htmx:
            return _error_fragment(message, status)
        kept = {k: v for k, v in (form or {}).items() if isinstance(v, str) and k != "csrf_token"}
        return await _page(request, uow, phone_number_id=phone_number_id, wa_id=wa_id, error=message,
                           status_code=status, read=_field(form, "read") != "0" if form else True, form=kept)
    read = _field(form, "read") != "0"
    if goto:
        return RedirectResponse(goto, status_code=303, headers={"HX-Redirect": goto} if htmx else None)
    if not htmx:
        return RedirectResponse(_chat_url(phone_number_id, wa_id, read="1" if read else "0"), status_code=303)
    chat = await _thread(uow, phone_number_id, wa_id, read=read)
    return _render(request, "sandbox_phone/_thread.html", {"chat": chat}, headers={"HX-Trigger": "phonesent"})


def _referral(form: FormData) -> dict[str, Any] | None:
    if _field(form, "as_ad") not in ("1", "on", "true"):
        return None
    return actions.ad_referral(actions.clean(_field(form, "ad_headline"), "Ad headline", limit=200))


@router.post("/customers")
async def create_customer(request: Request, uow: UoW) -> Response:
    """Create (or rename) a virtual customer, then open the chat with them."""

    async def run(form: FormData, phone_number_id: str, wa_id: str) -> str:
        await phone_by_id(uow, phone_number_id)
        name = actions.clean(_field(form, "name"), "Name", limit=actions.MAX_NAME)
        customer = await service.upsert_customer(uow, wa_id, name=name or None)
        return _chat_url(phone_number_id, customer.wa_id)  # a full page: the picker changes too

    return await _act(request, uow, run)


@router.post("/send")
async def send(request: Request, uow: UoW) -> Response:
    """The composer: `kind` = text | location | image (multipart), optionally as a reply to a CTWA ad."""

    async def run(form: FormData, phone_number_id: str, wa_id: str) -> None:
        kind = _field(form, "kind") or "text"
        referral = _referral(form)
        if kind == "text":
            await actions.send_text(uow, wa_id, phone_number_id, _field(form, "body"), referral)
        elif kind == "location":
            await actions.send_location(uow, wa_id, phone_number_id, latitude=_field(form, "latitude"),
                                        longitude=_field(form, "longitude"), name=_field(form, "name"),
                                        address=_field(form, "address"), referral=referral)
        elif kind == "image":
            upload = form.get("image")
            data = await upload.read(actions.MAX_IMAGE + 1) if isinstance(upload, UploadFile) else b""
            await actions.send_image(uow, wa_id, phone_number_id, data=data, caption=_field(form, "caption"),
                                     referral=referral)
        else:
            raise PhoneError("The phone can send text, a location or an image.")
        return None

    return await _act(request, uow, run)


@router.post("/tap")
async def tap(request: Request, uow: UoW) -> Response:
    """A reply button, list row or template quick reply tapped on message `wamid` (`choice`: index or row id)."""

    async def run(form: FormData, phone_number_id: str, wa_id: str) -> None:
        await actions.tap(uow, wa_id, phone_number_id, wamid=_field(form, "wamid"), choice=_field(form, "choice"))
        return None

    return await _act(request, uow, run)


@router.get("/media/{media_id}")
async def media(media_id: str, uow: UoW, phone_number_id: str = "") -> Response:
    """A file the business sent or received, for the phone to show (the sandbox only; no Graph token needed)."""
    try:
        found = await actions.media_of_phone(uow, phone_number_id, media_id)
    except (PhoneError, GraphFault):
        return Response("Not found.", status_code=404, media_type="text/plain")
    headers = {"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"}
    if not found.mime_type.startswith(("image/", "video/", "audio/")):
        safe = "".join(ch for ch in (found.filename or "file") if ch.isalnum() or ch in "._- ")[:100] or "file"
        headers["Content-Disposition"] = f'attachment; filename="{safe}"'
    return Response(found.data, media_type=found.mime_type, headers=headers)
