"""`/sandbox/razorpay/checkout/{order_id}`: the page Razorpay's hosted checkout shows the customer.

The product redirects the customer's browser here with `callback_url`. "Pay (success)" captures a payment and
returns to the callback with `razorpay_payment_id`, `razorpay_order_id` and `razorpay_signature`; "Fail payment"
returns with Razorpay's `error[…]` fields; "Cancel" returns with `error[reason]=payment_cancelled` and nothing paid.
The return is a form POST to the callback URL, as Razorpay's redirect mode does; `callback_method=get` redirects
with the fields in the query string instead (as payment links may). `callback_method=postmessage` is the page
inside the sandbox's checkout.js (checkout_js.py): `callback_url` is then the shop page's origin, and the outcome
goes to that page with `postMessage`, as Razorpay's modal hands it to `options.handler`. With `key`, the page
refuses an order of another merchant, as Razorpay's checkout refuses a key that doesn't own the order.

The sandbox plays a third party, so its form is CSRF-checked with a token of its own origin (the dashboard's
signed double-submit cookie, set here when the app has no dashboard, as in the standalone sandbox).
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson
from babel.numbers import format_currency
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import BaseLoader, ChoiceLoader, FileSystemLoader

from softdukan.dashboard import csrf
from softdukan.dashboard.render import templates as dashboard_templates
from softdukan.platform.deps import UoW
from softdukan.platform.errors import DomainError
from softdukan.sandbox.razorpay import orders, payments
from softdukan.sandbox.razorpay.errors import NO_SUCH_ID, RazorpayFault
from softdukan.sandbox.razorpay.models import SandboxRzpMerchant, SandboxRzpOrder

router = APIRouter(prefix="/checkout", include_in_schema=False)
_loaders: list[BaseLoader] = [FileSystemLoader(str(Path(__file__).parent / "templates"))]
if dashboard_templates.env.loader is not None:  # _head.html
    _loaders.append(dashboard_templates.env.loader)
pages = Jinja2Templates(env=dashboard_templates.env.overlay(loader=ChoiceLoader(_loaders)))
ACTIONS = {"pay", "fail", "cancel"}
MAX_URL = 2000
ORIGIN = re.compile(r"^https?://[^/?#\s]+$")
EVENTS = {"pay": "success", "fail": "failed", "cancel": "dismiss"}


class CheckoutError(DomainError):
    status = 400
    default_code = "checkout_error"


def rupees(paise: int) -> str:
    return format_currency(Decimal(paise) / 100, "INR", locale="en_IN")


def _method(value: str) -> str:
    return value if value in ("get", "postmessage") else "post"


def _callback(url: str, method: str = "post") -> str:
    url = url.strip()
    if url and (len(url) > MAX_URL or not url.startswith(("http://", "https://"))):
        raise CheckoutError("invalid_callback_url", "The callback_url must be an http(s) URL.")
    if method == "postmessage" and not ORIGIN.match(url):
        raise CheckoutError("invalid_callback_url", "With postmessage, the callback_url is the shop page's origin "
                                                    "(scheme://host[:port]).")
    return url


def _render(request: Request, name: str, context: dict[str, Any], *, status_code: int = 200) -> HTMLResponse:
    token, new_cookie = _csrf(request)
    response = pages.TemplateResponse(request, name, {"request": request, "csrf_token": token, **context},
                                      status_code=status_code)
    if new_cookie:
        csrf.set_cookie(response, new_cookie, secure=request.app.state.settings.cookie_secure)
    return response


def _csrf(request: Request) -> tuple[str, str | None]:
    """The form's token, and a cookie to set when no dashboard middleware gave this browser one."""
    token = getattr(request.state, "csrf_token", None)
    if token:
        return token, None
    value, is_new = csrf.ensure_cookie(request)
    return csrf.token_for(request.app.state.settings.softdukan_secret_key, value), value if is_new else None


def _problem(request: Request, message: str, status: int) -> HTMLResponse:
    return _render(request, "sandbox_razorpay/problem.html", {"message": message}, status_code=status)


async def _page_context(uow: UoW, order: SandboxRzpOrder) -> dict[str, Any]:
    merchant = await uow.session.get(SandboxRzpMerchant, order.merchant_pk)
    return {"order": order, "merchant": merchant, "amount": rupees(order.amount)}


@router.get("/{order_id}", response_class=HTMLResponse)
async def checkout_page(order_id: str, request: Request, uow: UoW, callback_url: str = "",
                        callback_method: str = "post", key: str = "") -> HTMLResponse:
    method = _method(callback_method)
    try:
        callback = _callback(callback_url, method)
        order = await orders.order_by_id(uow, order_id)
    except CheckoutError as exc:
        return _problem(request, exc.message, 400)
    except RazorpayFault:
        return _problem(request, "There is no such order. Go back to the shop and start the payment again.", 404)
    context = await _page_context(uow, order)
    if key and key != context["merchant"].key_id:
        return _problem(request, "This order belongs to another Razorpay account than the key checkout was opened "
                                 "with.", 400)
    return _render(request, "sandbox_razorpay/checkout.html", {**context, "callback_url": callback,
                                                                "callback_method": method})


def _field(form: Any, key: str) -> str:
    value = form.get(key)
    return value if isinstance(value, str) else ""


def _error_fields(code: str, description: str, reason: str, metadata: dict[str, str]) -> dict[str, str]:
    return {"error[code]": code, "error[description]": description, "error[source]": "customer",
            "error[step]": "payment_authentication" if reason == "payment_cancelled" else "payment_authorization",
            "error[reason]": reason, "error[metadata]": orjson.dumps(metadata).decode()}


async def _run(uow: UoW, order: SandboxRzpOrder, action: str) -> dict[str, str]:
    """The fields checkout hands back for the customer's choice."""
    if action == "pay":
        result = await payments.pay(uow, order)
        assert result.signature is not None
        return {"razorpay_payment_id": result.payment.payment_id, "razorpay_order_id": order.order_id,
                "razorpay_signature": result.signature}
    if action == "fail":
        result = await payments.fail(uow, order)
        return _error_fields("BAD_REQUEST_ERROR", result.payment.error_description or payments.FAILED_DESCRIPTION,
                             "payment_failed", {"payment_id": result.payment.payment_id, "order_id": order.order_id})
    return _error_fields("BAD_REQUEST_ERROR", "Payment processing cancelled by user", "payment_cancelled",
                         {"order_id": order.order_id})


async def _form(request: Request) -> Any:
    try:
        return await request.form(max_files=0, max_fields=20)
    except Exception:  # a broken form body is bad input, not a crash
        raise CheckoutError("unreadable_form", "The form could not be read; reload the page and try again.") from None


@router.post("/{order_id}")
async def checkout_submit(order_id: str, request: Request, uow: UoW) -> Response:
    try:
        form = await _form(request)  # parsed once: the CSRF check below reads the same cached form
        await csrf.verify(request, request.app.state.settings.softdukan_secret_key)
        action = _field(form, "action")
        if action not in ACTIONS:
            raise CheckoutError("invalid_action", "Choose Pay, Fail payment or Cancel.")
        method = _method(_field(form, "callback_method"))
        callback = _callback(_field(form, "callback_url"), method)
        order = await orders.order_by_id(uow, order_id)
        fields = await _run(uow, order, action)
    except DomainError as exc:
        await uow.rollback()
        return _problem(request, exc.message, exc.status)
    except RazorpayFault as exc:
        await uow.rollback()
        if exc.description == NO_SUCH_ID:
            return _problem(request, "There is no such order. Go back to the shop and start the payment again.", 404)
        return _problem(request, exc.description, exc.status)
    if not callback:
        return _render(request, "sandbox_razorpay/result.html", {"fields": fields, "action": action})
    if method == "postmessage":
        return _render(request, "sandbox_razorpay/embedded.html", {
            "fields": fields, "event": EVENTS[action], "origin": callback, "order_id": order_id})
    if method == "get":
        return RedirectResponse(callback + ("&" if "?" in callback else "?") + urlencode(fields), status_code=303)
    return _render(request, "sandbox_razorpay/return.html", {"fields": fields, "callback_url": callback})
