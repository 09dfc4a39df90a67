"""Wire shapes of /v1 for accounts and numbers. Secrets (tokens, app secret, verify token, PIN) never appear."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from softdukan.number.models import PhoneNumber, WhatsAppAccount
from softdukan.number.service import NumberView


class AccountOut(BaseModel):
    id: int
    waba_id: str
    business_id: str | None
    name: str
    status: str
    messaging_limit_tier: str
    webhooks_subscribed: bool
    created_at: datetime


class PhoneNumberOut(BaseModel):
    id: int
    account_id: int
    waba_id: str
    phone_number_id: str
    display_phone_number: str
    wa_number: str
    verified_name: str
    name_status: str
    new_display_name: str | None
    status: str
    quality_rating: str
    messaging_limit_tier: str
    throughput_level: str
    throughput_mps: int
    source: str
    onboarding_step: str
    code_verification_status: str
    history_import: str | None
    is_default: bool
    registered_at: datetime | None
    refreshed_at: datetime | None
    created_at: datetime


def account_out(account: WhatsAppAccount) -> AccountOut:
    return AccountOut(id=account.id, waba_id=account.waba_id, business_id=account.business_id, name=account.name,
                      status=account.status, messaging_limit_tier=account.messaging_limit_tier,
                      webhooks_subscribed=account.webhooks_subscribed_at is not None, created_at=account.created_at)


def number_out(view: NumberView) -> PhoneNumberOut:
    n: PhoneNumber = view.number
    return PhoneNumberOut(
        id=n.id, account_id=n.account_id, waba_id=view.account.waba_id, phone_number_id=n.phone_number_id,
        display_phone_number=n.display_phone_number, wa_number=n.wa_number, verified_name=n.verified_name,
        name_status=n.name_status, new_display_name=n.new_display_name, status=n.status,
        quality_rating=n.quality_rating, messaging_limit_tier=n.messaging_limit_tier,
        throughput_level=n.throughput_level, throughput_mps=n.throughput_mps, source=n.source,
        onboarding_step=n.onboarding_step, code_verification_status=n.code_verification_status,
        history_import=n.history_import, is_default=n.is_default, registered_at=n.registered_at,
        refreshed_at=n.refreshed_at, created_at=n.created_at)


class SignupIn(BaseModel):
    """Embedded signup. In the sandbox leave `code` out and the sandbox plays Meta's popup; with Meta, pass the
    popup's `code` and the `waba_id`/`business_id` of its FINISH event."""

    business_name: str = Field(max_length=200)
    waba_name: str = Field(max_length=200)
    code: str | None = Field(default=None, max_length=2000)
    waba_id: str | None = Field(default=None, max_length=64)
    business_id: str | None = Field(default=None, max_length=64)


class CoexistenceIn(SignupIn):
    """Bring a WhatsApp Business app number (coexistence)."""

    phone_number: str = Field(max_length=40)
    phone_number_id: str | None = Field(default=None, max_length=64)


class AddNumberIn(BaseModel):
    phone_number: str = Field(max_length=40, description="With its country code, e.g. +91 98123 45678")
    verified_name: str = Field(max_length=200, description="The display name customers see")
    migrate: bool = Field(default=False, description="Move a number from another provider (two-step PIN needed)")


class RequestCodeIn(BaseModel):
    method: str = Field(default="SMS", max_length=100, description="SMS or VOICE")
    language: str = Field(default="en_US", max_length=100)


class VerifyCodeIn(BaseModel):
    code: str = Field(max_length=100, description="The 6-digit code sent by SMS or voice")


class RegisterIn(BaseModel):
    pin: str = Field(max_length=100, description="6 digits: a new PIN, or the number's two-step PIN when migrating")


class DisplayNameIn(BaseModel):
    display_name: str = Field(max_length=200)


class HistoryImportIn(BaseModel):
    accept: bool
