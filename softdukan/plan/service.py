"""The catalogue: reading plans and products (seeded from `catalog.py` the first time anyone asks), and staff
editing them. Prices are yearly paise before GST; features and limits must be names the product knows."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from softdukan.kit.upsert import insert_ignore
from softdukan.plan.catalog import FEATURES, LIMITS, PLANS, PRODUCTS
from softdukan.plan.models import PRODUCT_KINDS, Plan, Product
from softdukan.platform.errors import Conflict, Invalid, NotFound

MAX_PRICE_PAISE = 100_000_000_00  # ₹10 crore a year: anything above is a typo
MAX_LIMIT = 10_000_000
CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


async def seed(session: AsyncSession, now: Any) -> None:
    """The default catalogue; rows present are left alone (insert-or-ignore on the code)."""
    await session.execute(insert_ignore(session, Plan, ["code"]), [
        {"code": p.code, "name": p.name, "description": p.description, "yearly_price_paise": p.yearly_price_paise,
         "features": sorted(p.features), "limits": dict(p.limits), "active": True, "sort_order": n,
         "created_at": now} for n, p in enumerate(PLANS)])
    await session.execute(insert_ignore(session, Product, ["code"]), [
        {"code": p.code, "name": p.name, "kind": p.kind, "price_paise": p.price_paise, "recurring": p.recurring,
         "grants": dict(p.grants), "active": True, "created_at": now} for p in PRODUCTS])


async def _seeded(session: AsyncSession, now: Any) -> None:
    if not await session.scalar(select(func.count()).select_from(Plan)):
        await seed(session, now)


async def plans(session: AsyncSession, now: Any, *, active_only: bool = False) -> list[Plan]:
    await _seeded(session, now)
    query = select(Plan).order_by(Plan.sort_order, Plan.id)
    if active_only:
        query = query.where(Plan.active.is_(True))
    return list((await session.execute(query)).scalars())


async def products(session: AsyncSession, now: Any, *, active_only: bool = False) -> list[Product]:
    await _seeded(session, now)
    query = select(Product).order_by(Product.kind, Product.id)
    if active_only:
        query = query.where(Product.active.is_(True))
    return list((await session.execute(query)).scalars())


async def by_code(session: AsyncSession, code: str, now: Any) -> Plan:
    await _seeded(session, now)
    plan = await session.scalar(select(Plan).where(Plan.code == code))
    if plan is None:
        raise NotFound("plan_not_found", f"There is no plan '{code}'.")
    return plan


async def by_id(session: AsyncSession, plan_id: int) -> Plan:
    plan = await session.get(Plan, plan_id)
    if plan is None:
        raise NotFound("plan_not_found", "There is no such plan.")
    return plan


def _price(value: Any, field: str = "yearly_price_paise") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_PRICE_PAISE:
        raise Invalid("invalid_price", f"The price is a whole number of paise from 0 to {MAX_PRICE_PAISE:,}.",
                      {field: "out of range"})
    return value


def _features(values: Any) -> list[str]:
    names = sorted(set(values or []))
    unknown = [n for n in names if n not in FEATURES]
    if unknown:
        raise Invalid("unknown_feature", "Unknown feature(s): " + ", ".join(unknown) + ".", {"features": "unknown"})
    return names


def _limits(values: dict[str, Any]) -> dict[str, int | None]:
    unknown = sorted(set(values) - set(LIMITS))
    if unknown:
        raise Invalid("unknown_limit", "Unknown limit(s): " + ", ".join(unknown) + ".", {"limits": "unknown"})
    out: dict[str, int | None] = {}
    for name, value in values.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not 0 <= value <= MAX_LIMIT):
            raise Invalid("invalid_limit", f"The {name} limit is a whole number from 0 to {MAX_LIMIT:,}, or empty "
                                           "for unlimited.", {name: "out of range"})
        out[name] = value
    return out


def _name(value: str, field: str = "name") -> str:
    value = (value or "").strip()
    if not 1 <= len(value) <= 80:
        raise Invalid("invalid_name", "A name is 1 to 80 characters.", {field: "1 to 80 characters"})
    return value


async def save_plan(session: AsyncSession, *, code: str, name: str, description: str, yearly_price_paise: Any,
                    features: Any, limits: dict[str, Any], active: bool, now: Any, create: bool) -> Plan:
    """Creates a plan (`create`) or edits one; a plan is never deleted, only retired (`active` off)."""
    await _seeded(session, now)
    values = {"name": _name(name), "description": (description or "").strip()[:300],
              "yearly_price_paise": _price(yearly_price_paise), "features": _features(features),
              "limits": _limits(limits), "active": bool(active)}
    return await _save(session, Plan, code, values, now=now, create=create, what="plan")


async def save_product(session: AsyncSession, *, code: str, name: str, kind: str, price_paise: Any,
                       recurring: bool, grants: dict[str, Any], active: bool, now: Any, create: bool) -> Product:
    await _seeded(session, now)
    if kind not in PRODUCT_KINDS:
        raise Invalid("invalid_kind", "A product is an add-on, a setup fee or an integration.", {"kind": "invalid"})
    clean = {k: v for k, v in _limits(grants).items() if v}
    values = {"name": _name(name), "kind": kind, "price_paise": _price(price_paise, "price_paise"),
              "recurring": bool(recurring) and kind != "setup_fee", "grants": clean, "active": bool(active)}
    return await _save(session, Product, code, values, now=now, create=create, what="product")


async def _save(session: AsyncSession, model: Any, code: str, values: dict[str, Any], *, now: Any, create: bool,
                what: str) -> Any:
    """Creates (`create`) or edits the catalogue row with this code; codes never change once made."""
    existing = await session.scalar(select(model).where(model.code == code))
    if create:
        if not CODE.match(code or ""):
            raise Invalid("invalid_code", f"A {what} code is 2 to 40 lower-case letters, digits or _, starting "
                                          "with a letter.", {"code": "invalid"})
        if existing is not None:
            raise Conflict(f"{what}_exists", f"A {what} '{code}' exists already.")
        if model is Plan:
            values = {**values, "sort_order": ((await session.scalar(select(func.max(Plan.sort_order)))) or 0) + 1}
        row = model(code=code, created_at=now, updated_at=now, **values)
        session.add(row)
        await session.flush()
        return row
    if existing is None:
        raise NotFound(f"{what}_not_found", f"There is no {what} '{code}'.")
    for key, value in values.items():
        setattr(existing, key, value)
    existing.updated_at = now
    await session.flush()
    return existing
