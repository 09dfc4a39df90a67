"""Staff pages: the catalogue (under /backoffice/plans, staff sign-in). Plans with their yearly price, features and
limits, and the add-ons, setup fees and integrations sold beside them; add or edit, retire instead of delete.
Each change is in the audit log."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from softdukan.audit.service import audit_service
from softdukan.backoffice.views import Staff
from softdukan.dashboard.render import render
from softdukan.kit.money import paise as rupees
from softdukan.plan import service as catalogue
from softdukan.plan.catalog import FEATURES, LIMITS
from softdukan.plan.models import PRODUCT_KINDS
from softdukan.platform.deps import UoW, client_ip
from softdukan.platform.errors import DomainError, Invalid
from softdukan.platform.uow import UnitOfWork

router = APIRouter(prefix="/backoffice/plans", include_in_schema=False)
BACK = "/backoffice/plans"
DONE = {"plan": "The plan is saved.", "product": "The product is saved."}
MAX_FIELD = 300


def _paise(name: str, text: str) -> int:
    """'9,999' or '9999.50' rupees → paise."""
    try:
        value = Decimal(text.replace(",", "").replace("₹", "").strip() or "x")
    except InvalidOperation:
        raise Invalid("invalid_price", "Enter the price in rupees, e.g. 9999 or 9999.50.", {name: "Rupees."}) from None
    if not value.is_finite() or value < 0 or value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise Invalid("invalid_price", "The price is rupees with at most 2 decimals, not negative.",
                      {name: "Rupees, up to 2 decimals."})
    return int(value * 100)


def _limit(name: str, text: str) -> int | None:
    text = text.replace(",", "").strip()
    if not text:
        return None  # unlimited
    if not text.isascii() or not text.isdigit():
        raise Invalid("invalid_limit", f"The {name} limit is a whole number, or empty for unlimited.",
                      {f"limit_{name}": "A whole number."})
    return int(text[:9])


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value[:MAX_FIELD] if isinstance(value, str) else ""


async def _form(request: Request) -> Any:
    try:
        return await request.form(max_files=0, max_fields=80)
    except Exception:  # a broken body is bad input, not a crash
        raise Invalid("unreadable_form", "The form could not be read; reload the page and try again.") from None


async def _page(request: Request, uow: UnitOfWork, staff_name: str, *, status_code: int = 200,
                **context: Any) -> Response:
    now = uow.clock.now()
    ctx: dict[str, Any] = {"staff_name": staff_name, "plans": await catalogue.plans(uow.session, now),
                           "products": await catalogue.products(uow.session, now), "features": FEATURES,
                           "limits": LIMITS, "kinds": PRODUCT_KINDS, "rupees": rupees, "error": None}
    ctx.update(context)
    return render(request, "plan/backoffice_plans.html", ctx, status_code=status_code)


@router.get("", response_class=HTMLResponse)
async def catalogue_page(request: Request, uow: UoW, staff: Staff, done: str = "") -> Response:
    return await _page(request, uow, staff.name, flash=DONE.get(done))


async def _refused(request: Request, uow: UnitOfWork, staff_name: str, exc: DomainError) -> Response:
    await uow.rollback()
    return await _page(request, uow, staff_name, status_code=exc.status, error=exc.message)


@router.post("/save", response_class=HTMLResponse)
async def save_plan(request: Request, uow: UoW, staff: Staff) -> Response:
    """Adds a plan (`create` set) or edits one; a retired plan (`active` off) takes no new subscribers."""
    staff_name, staff_id, staff_email = staff.name, staff.id, staff.email
    try:
        form = await _form(request)
        code, create = _text(form, "code").strip(), _text(form, "create") == "1"
        plan = await catalogue.save_plan(
            uow.session, code=code, name=_text(form, "name"), description=_text(form, "description"),
            yearly_price_paise=_paise("yearly_price", _text(form, "yearly_price")),
            features=[f for f in form.getlist("features") if isinstance(f, str)],
            limits={name: _limit(name, _text(form, f"limit_{name}")) for name in LIMITS},
            active=_text(form, "active") == "1", now=uow.clock.now(), create=create)
        audit_service.record(uow, "plan.created" if create else "plan.saved", actor_type="staff", actor_id=staff_id,
                             actor_label=staff_email, target_label=plan.code, ip=client_ip(request),
                             price_paise=plan.yearly_price_paise, features=list(plan.features),
                             limits=dict(plan.limits), active=plan.active)
    except DomainError as exc:
        return await _refused(request, uow, staff_name, exc)
    return RedirectResponse(f"{BACK}?done=plan", status_code=303)


@router.post("/products/save", response_class=HTMLResponse)
async def save_product(request: Request, uow: UoW, staff: Staff) -> Response:
    staff_name, staff_id, staff_email = staff.name, staff.id, staff.email
    try:
        form = await _form(request)
        code, create = _text(form, "code").strip(), _text(form, "create") == "1"
        grants = {name: _limit(name, _text(form, f"grant_{name}")) for name in LIMITS}
        product = await catalogue.save_product(
            uow.session, code=code, name=_text(form, "name"), kind=_text(form, "kind"),
            price_paise=_paise("price", _text(form, "price")), recurring=_text(form, "recurring") == "1",
            grants={k: v for k, v in grants.items() if v}, active=_text(form, "active") == "1",
            now=uow.clock.now(), create=create)
        audit_service.record(uow, "product.created" if create else "product.saved", actor_type="staff",
                             actor_id=staff_id, actor_label=staff_email, target_label=product.code,
                             ip=client_ip(request), price_paise=product.price_paise, kind=product.kind,
                             active=product.active)
    except DomainError as exc:
        return await _refused(request, uow, staff_name, exc)
    return RedirectResponse(f"{BACK}?done=product", status_code=303)
