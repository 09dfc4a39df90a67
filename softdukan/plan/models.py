"""The catalogue: plans (yearly, with features and limits) and the other products sold beside them (add-ons,
one-time setup fees, third-party integrations). Staff edit them; a plan or product is retired (`active` off), never
deleted, so subscriptions and invoices keep naming what they bought."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from softdukan.kit.db import Model

PRODUCT_KINDS = ("addon", "setup_fee", "integration")


class Plan(Model):
    __tablename__ = "plans"
    __table_args__ = (CheckConstraint("yearly_price_paise >= 0", name="price"),)

    code: Mapped[str] = mapped_column(String(40), unique=True)  # never changes: subscriptions name it
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(String(300), default="")
    yearly_price_paise: Mapped[int] = mapped_column(BigInteger)
    features: Mapped[list[str]] = mapped_column(default=list)
    limits: Mapped[dict[str, Any]] = mapped_column(default=dict)  # name → int, or None for unlimited
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # off: no new subscriptions or changes to it
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime | None]


class Product(Model):
    __tablename__ = "plan_products"
    __table_args__ = (CheckConstraint("price_paise >= 0", name="price"),
                      CheckConstraint("kind IN ('addon', 'setup_fee', 'integration')", name="kind"))

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(12))
    price_paise: Mapped[int] = mapped_column(BigInteger)
    recurring: Mapped[bool] = mapped_column(Boolean, default=True)  # yearly with the plan, or charged once
    grants: Mapped[dict[str, Any]] = mapped_column(default=dict)  # limit increments per unit bought
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime | None]
