"""Connected WhatsApp Business Accounts (WABAs) and their phone numbers.

Secrets (the business access token, the app secret that signs webhooks, the webhook verify
token and the two-step PIN) are sealed with `runtime.secrets` (Fernet) and never stored in clear.
`verify_token_hash` (a keyed hash) lets the GET handshake find its account without decrypting.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from softdukan.kit.db import BigId, TenantModel, UTCDateTime, utcnow

# PhoneNumber.status: our connection state, kept in step with Meta's `status` field.
PENDING = "PENDING"  # added, not yet registered
CONNECTED = "CONNECTED"
DISCONNECTED = "DISCONNECTED"
FLAGGED = "FLAGGED"
RESTRICTED = "RESTRICTED"

# PhoneNumber.onboarding_step: where "Connect WhatsApp" stands for this number.
STEP_ADDED = "added"
STEP_CODE_REQUESTED = "code_requested"
STEP_VERIFIED = "verified"
STEP_REGISTERED = "registered"
STEP_SUBSCRIBED = "subscribed"  # webhooks subscribed; display name (or, coexistence, history import) next
STEP_DONE = "done"

# PhoneNumber.source: how the number came to us.
SOURCE_NEW = "new"
SOURCE_COEXISTENCE = "coexistence"  # WhatsApp Business app number (fixed 20 mps, no register/deregister)
SOURCE_MIGRATION = "migration"  # moved from another provider with the two-step PIN

# PhoneNumber.history_import (coexistence only): the offer to import the Business app's chats.
HISTORY_REQUESTED = "requested"
HISTORY_DECLINED = "declined"
HISTORY_DONE = "done"


class WhatsAppAccount(TenantModel):
    """One WABA connected to an organization, with the credentials to act for it."""

    __tablename__ = "whatsapp_accounts"

    waba_id: Mapped[str] = mapped_column(String(64), unique=True)
    business_id: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")
    currency: Mapped[str] = mapped_column(String(3), default="INR")
    app_id: Mapped[str | None] = mapped_column(String(64))
    access_token_sealed: Mapped[str] = mapped_column(Text)
    app_secret_sealed: Mapped[str] = mapped_column(Text)
    verify_token_sealed: Mapped[str] = mapped_column(Text)
    verify_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Portfolio-level messaging limit (`whatsapp_business_manager_messaging_limit`), e.g. TIER_250.
    messaging_limit_tier: Mapped[str] = mapped_column(String(32), default="TIER_250")
    status: Mapped[str] = mapped_column(String(32), default="ACTIVE")  # ACTIVE | RESTRICTED | DISCONNECTED
    restriction: Mapped[str | None] = mapped_column(Text)  # last account_update restriction, JSON text
    webhooks_subscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PhoneNumber(TenantModel):
    """A business phone number on a connected WABA."""

    __tablename__ = "phone_numbers"

    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("whatsapp_accounts.id", ondelete="CASCADE"),
                                            index=True)
    phone_number_id: Mapped[str] = mapped_column(String(64), unique=True)  # Meta's id
    display_phone_number: Mapped[str] = mapped_column(String(32))  # as Meta shows it, e.g. "15550783881"
    wa_number: Mapped[str] = mapped_column(String(20), index=True)  # digits only, E.164 without "+"
    verified_name: Mapped[str] = mapped_column(String(200), default="")
    name_status: Mapped[str] = mapped_column(String(32), default="PENDING_REVIEW")
    new_display_name: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(32), default=PENDING)
    onboarding_step: Mapped[str] = mapped_column(String(32), default=STEP_ADDED)
    source: Mapped[str] = mapped_column(String(16), default=SOURCE_NEW)
    code_verification_status: Mapped[str] = mapped_column(String(16), default="NOT_VERIFIED")
    quality_rating: Mapped[str] = mapped_column(String(16), default="UNKNOWN")
    messaging_limit_tier: Mapped[str] = mapped_column(String(32), default="TIER_250")
    throughput_level: Mapped[str] = mapped_column(String(16), default="STANDARD")
    throughput_mps: Mapped[int] = mapped_column(Integer, default=80)
    pin_sealed: Mapped[str | None] = mapped_column(Text)  # two-step verification PIN
    history_import: Mapped[str | None] = mapped_column(String(16))  # coexistence: None|requested|declined|done
    code_method: Mapped[str | None] = mapped_column(String(8))  # SMS | VOICE, the last verification code asked for
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last read of Meta's fields
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
