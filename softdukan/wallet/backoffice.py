"""Staff pages: rate cards and the markup per plan (under /backoffice, staff sign-in). A card is Meta's rate per
category for one market over quarter-aligned dates; adding one that starts after an open-ended card closes that
card at the new start; any other overlap is refused. Each change is in the audit log."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from softdukan.audit.service import audit_service
from softdukan.backoffice.views import Staff, Text
from softdukan.dashboard.render import render
from softdukan.kit.money import credits as rupees
from softdukan.plan.service import plans as catalogue
from softdukan.platform.deps import UoW, client_ip
from softdukan.platform.errors import DomainError, Invalid
from softdukan.platform.uow import UnitOfWork
from softdukan.wallet import rates
from softdukan.wallet.markets import MARKETS
from softdukan.wallet.models import CATEGORIES, Reconciliation

router = APIRouter(prefix="/backoffice/rates", include_in_schema=False)
BACK = "/backoffice/rates"
DONE = {"card": "The rate card is saved.", "markup": "The markup is saved."}


def _units(name: str, text: str) -> int:
    """'0.8631' rupees → 8631 units."""
    try:
        value = Decimal(text.strip().replace("₹", "") or "x")
    except InvalidOperation:
        raise Invalid("invalid_rate", f"Enter the {name.replace('_', ' ')} rate in rupees, e.g. 0.8631.",
                      {name: "Rupees, up to 4 decimals."}) from None
    if not value.is_finite() or value < 0 or value.as_tuple().exponent < -4:  # type: ignore[operator]
        raise Invalid("invalid_rate", f"The {name.replace('_', ' ')} rate is rupees with at most 4 decimals, "
                                      "not negative.", {name: "Rupees, up to 4 decimals."})
    return int(value * 10_000)


def _date(name: str, text: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        raise Invalid("invalid_date", f"'{text[:20]}' is not a date (YYYY-MM-DD).", {name: "YYYY-MM-DD"}) from None


async def _page(request: Request, uow: UnitOfWork, staff_name: str, *, status_code: int = 200,
                **context: Any) -> Response:
    ctx: dict[str, Any] = {"staff_name": staff_name, "cards": await rates.all_cards(uow.session),
                           "markups": await rates.all_markups(uow.session), "markets": MARKETS,
                           "categories": CATEGORIES, "rupees": rupees,
                           "plans": [p.code for p in await catalogue(uow.session, uow.clock.now())], "errors": {},
                           "values": {}, "today": uow.clock.now().date(),
                           "last_run": await uow.session.scalar(select(Reconciliation)
                                                                .order_by(Reconciliation.id.desc()).limit(1))}
    ctx.update(context)
    return render(request, "wallet/backoffice_rates.html", ctx, status_code=status_code)


@router.get("", response_class=HTMLResponse)
async def rate_cards(request: Request, uow: UoW, staff: Staff, done: str = "") -> Response:
    if not await rates.all_cards(uow.session):
        await rates.seed(uow.session, uow.clock.now())
    return await _page(request, uow, staff.name, flash=DONE.get(done))


@router.post("", response_class=HTMLResponse)
async def add_card(request: Request, uow: UoW, staff: Staff, market: Text = "", effective_from: Text = "",
                   effective_until: Text = "", marketing: Text = "", utility: Text = "", authentication: Text = "",
                   authentication_international: Text = "", service: Text = "0", note: Text = "") -> Response:
    staff_name, staff_id, staff_email = staff.name, staff.id, staff.email
    values = {"market": market, "effective_from": effective_from, "effective_until": effective_until,
              "marketing": marketing, "utility": utility, "authentication": authentication,
              "authentication_international": authentication_international, "service": service, "note": note}
    try:
        start = _date("effective_from", effective_from)
        if start is None:
            raise Invalid("invalid_date", "Say when the card starts.", {"effective_from": "Required."})
        card = await rates.add_card(
            uow.session, market=market[:8], effective_from=start, effective_until=_date("effective_until",
                                                                                        effective_until),
            rates={name: _units(name, values[name][:20]) for name in CATEGORIES}, note=note[:300],
            created_by=staff_email, now=uow.clock.now())
        audit_service.record(uow, "rate_card.added", actor_type="staff", actor_id=staff_id, actor_label=staff_email,
                             target_label=f"{market} from {start}", ip=client_ip(request), card_id=card.id,
                             **{name: getattr(card, name) for name in CATEGORIES})
    except DomainError as exc:
        await uow.rollback()
        details = exc.details if isinstance(exc.details, dict) else {}
        return await _page(request, uow, staff_name, status_code=exc.status, error=exc.message,
                           errors={k: str(v) for k, v in details.items()}, values=values)
    return RedirectResponse(f"{BACK}?done=card", status_code=303)


@router.post("/markups", response_class=HTMLResponse)
async def set_markup(request: Request, uow: UoW, staff: Staff, plan: Text = "", category: Text = "",
                     markup: Text = "") -> Response:
    staff_name, staff_id, staff_email = staff.name, staff.id, staff.email
    try:
        units = _units("markup", markup[:20])
        await rates.set_markup(uow.session, plan=plan[:40], category=category[:40], units=units, now=uow.clock.now())
        audit_service.record(uow, "rate_markup.set", actor_type="staff", actor_id=staff_id, actor_label=staff_email,
                             target_label=f"{plan} {category}", ip=client_ip(request), units=units)
    except DomainError as exc:
        await uow.rollback()
        return await _page(request, uow, staff_name, status_code=exc.status, error=exc.message)
    return RedirectResponse(f"{BACK}?done=markup", status_code=303)
