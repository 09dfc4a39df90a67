"""The sandbox's own "Meta": apps, businesses, WABAs, numbers, tokens, customers, messages, media,
templates and webhook deliveries. Not tenant tables: the sandbox stands outside the product."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from softdukan.kit.db import BigId, Model, UTCDateTime, utcnow


def _json_list() -> list[Any]:
    return []


class SandboxApp(Model):
    """A Meta app: its secret signs webhooks; its callback is the default webhook target."""

    __tablename__ = "sandbox_apps"

    app_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret: Mapped[str] = mapped_column(String(200))
    callback_url: Mapped[str | None] = mapped_column(Text)
    verify_token: Mapped[str | None] = mapped_column(String(200))


class SandboxBusiness(Model):
    """A business portfolio: the messaging limit is counted here, shared by its numbers."""

    __tablename__ = "sandbox_businesses"

    business_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    messaging_limit_tier: Mapped[str] = mapped_column(String(32), default="TIER_250")
    limit_review_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a tier auto-scale review is due


class SandboxWaba(Model):
    __tablename__ = "sandbox_wabas"

    waba_id: Mapped[str] = mapped_column(String(64), unique=True)
    business_pk: Mapped[int] = mapped_column(BigId, ForeignKey("sandbox_businesses.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3), default="INR")
    timezone_id: Mapped[str] = mapped_column(String(8), default="71")
    status: Mapped[str] = mapped_column(String(32), default="ACTIVE")  # ACTIVE | SUSPENDED
    payment_method_ok: Mapped[bool] = mapped_column(Boolean, default=True)
    payments_tos_accepted: Mapped[bool] = mapped_column(Boolean, default=True)
    restrictions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # restriction_type → expiration (unix)


class SandboxSubscription(Model):
    """An app subscribed to a WABA's webhooks (POST /{waba}/subscribed_apps)."""

    __tablename__ = "sandbox_subscriptions"
    __table_args__ = (UniqueConstraint("waba_pk", "app_pk"),)

    waba_pk: Mapped[int] = mapped_column(BigId, ForeignKey("sandbox_wabas.id", ondelete="CASCADE"), index=True)
    app_pk: Mapped[int] = mapped_column(BigId, ForeignKey("sandbox_apps.id", ondelete="CASCADE"), index=True)
    override_callback_uri: Mapped[str | None] = mapped_column(Text)
    verify_token: Mapped[str | None] = mapped_column(String(200))


class SandboxPhoneNumber(Model):
    __tablename__ = "sandbox_phone_numbers"

    phone_number_id: Mapped[str] = mapped_column(String(64), unique=True)
    waba_pk: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("sandbox_wabas.id", ondelete="CASCADE"), index=True
    )  # None: registered at "another provider"
    wa_number: Mapped[str] = mapped_column(String(20), index=True)  # digits
    display_phone_number: Mapped[str] = mapped_column(String(32))
    verified_name: Mapped[str] = mapped_column(String(200), default="")
    name_status: Mapped[str] = mapped_column(String(32), default="PENDING_REVIEW")
    new_display_name: Mapped[str | None] = mapped_column(String(200))
    new_name_status: Mapped[str] = mapped_column(String(32), default="NONE")
    status: Mapped[str] = mapped_column(String(32), default="PENDING")  # PENDING | CONNECTED | DISCONNECTED | DELETED
    registered: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_reregister: Mapped[bool] = mapped_column(Boolean, default=False)  # display-name change
    code_verification_status: Mapped[str] = mapped_column(String(16), default="NOT_VERIFIED")
    last_code: Mapped[str | None] = mapped_column(String(6))
    code_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    two_step_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    pin: Mapped[str | None] = mapped_column(String(6))
    pin_failures: Mapped[int] = mapped_column(Integer, default=0)
    pin_failure_times: Mapped[list[str]] = mapped_column(JSON, default=_json_list)  # ISO times of wrong PINs
    upgrade_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # throughput upgrade in progress
    coexistence: Mapped[bool] = mapped_column(Boolean, default=False)  # also on the WhatsApp Business app
    onboarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    migrating: Mapped[bool] = mapped_column(Boolean, default=False)
    data_localization_region: Mapped[str | None] = mapped_column(String(4))
    throughput_level: Mapped[str] = mapped_column(String(16), default="STANDARD")  # STANDARD | HIGH | COEXISTENCE
    quality_rating: Mapped[str] = mapped_column(String(16), default="GREEN")
    is_test_number: Mapped[bool] = mapped_column(Boolean, default=False)
    allowed_recipients: Mapped[list[str]] = mapped_column(JSON, default=_json_list)
    register_events: Mapped[list[str]] = mapped_column(JSON, default=_json_list)  # ISO times, register+deregister
    sync_requests: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # sync_type → request id
    commerce_settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SandboxToken(Model):
    """A business access token, scoped to one business and its WABAs (stored hashed)."""

    __tablename__ = "sandbox_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    business_pk: Mapped[int] = mapped_column(BigId, ForeignKey("sandbox_businesses.id", ondelete="CASCADE"), index=True)
    app_pk: Mapped[int | None] = mapped_column(BigId, ForeignKey("sandbox_apps.id", ondelete="CASCADE"))
    waba_ids: Mapped[list[str]] = mapped_column(JSON, default=_json_list)  # empty: every WABA of the business
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class SandboxOAuthCode(Model):
    """The code FB.login hands the browser; exchanged once for a token within its lifetime."""

    __tablename__ = "sandbox_oauth_codes"

    code: Mapped[str] = mapped_column(String(200), unique=True)
    app_pk: Mapped[int] = mapped_column(BigId, ForeignKey("sandbox_apps.id", ondelete="CASCADE"))
    business_pk: Mapped[int] = mapped_column(BigId, ForeignKey("sandbox_businesses.id", ondelete="CASCADE"))
    waba_ids: Mapped[list[str]] = mapped_column(JSON, default=_json_list)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SandboxCustomer(Model):
    """A virtual WhatsApp user."""

    __tablename__ = "sandbox_customers"

    wa_id: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    on_whatsapp: Mapped[bool] = mapped_column(Boolean, default=True)  # False → 131026
    opted_out_marketing: Mapped[bool] = mapped_column(Boolean, default=False)  # → 131050 on marketing
    failure_code: Mapped[int | None] = mapped_column(Integer)  # injected: every message to them fails so


class SandboxThread(Model):
    """One (business number, customer) pair: the service window and the free entry point window."""

    __tablename__ = "sandbox_threads"
    __table_args__ = (UniqueConstraint("phone_pk", "wa_id"),)

    phone_pk: Mapped[int] = mapped_column(BigId, ForeignKey("sandbox_phone_numbers.id", ondelete="CASCADE"))
    wa_id: Mapped[str] = mapped_column(String(20), index=True)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    referral_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last inbound with a CTWA referral
    fep_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fep_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fep_conversation_id: Mapped[str | None] = mapped_column(String(64))


class SandboxMessage(Model):
    __tablename__ = "sandbox_messages"
    __table_args__ = (
        Index("ix_sandbox_messages_thread", "phone_pk", "wa_id", "id"),
        Index("ix_sandbox_messages_limit", "business_pk", "counts_toward_limit", "created_at"),
    )

    wamid: Mapped[str] = mapped_column(String(128), unique=True)
    phone_pk: Mapped[int] = mapped_column(BigId, ForeignKey("sandbox_phone_numbers.id", ondelete="CASCADE"))
    business_pk: Mapped[int | None] = mapped_column(BigId)
    wa_id: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    type: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the message object as sent/received
    status: Mapped[str] = mapped_column(String(16), default="accepted")  # accepted|sent|delivered|read|failed|received
    error_code: Mapped[int | None] = mapped_column(Integer)  # the async failure decided at send time
    template_category: Mapped[str | None] = mapped_column(String(32))
    pricing: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    conversation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    pricing_sent_on: Mapped[str | None] = mapped_column(String(16))  # which of delivered/read carried pricing
    biz_opaque_callback_data: Mapped[str | None] = mapped_column(Text)
    context_wamid: Mapped[str | None] = mapped_column(String(128))
    counts_toward_limit: Mapped[bool] = mapped_column(Boolean, default=False)  # template outside the CSW
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    played_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # voice notes: first play
    flow_key: Mapped[str | None] = mapped_column(String(200), index=True)  # flow sends: "id:…" or "name:…"


class SandboxMedia(Model):
    __tablename__ = "sandbox_media"

    media_id: Mapped[str] = mapped_column(String(64), unique=True)
    phone_pk: Mapped[int | None] = mapped_column(BigId, ForeignKey("sandbox_phone_numbers.id", ondelete="CASCADE"))
    business_pk: Mapped[int | None] = mapped_column(BigId)
    origin: Mapped[str] = mapped_column(String(16), default="upload")  # upload | inbound
    mime_type: Mapped[str] = mapped_column(String(128))
    filename: Mapped[str | None] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    file_size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SandboxTemplate(Model):
    __tablename__ = "sandbox_templates"
    __table_args__ = (Index("ix_sandbox_templates_name", "waba_pk", "name", "language"),)

    template_id: Mapped[str] = mapped_column(String(64), unique=True)
    waba_pk: Mapped[int] = mapped_column(BigId, ForeignKey("sandbox_wabas.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(512))
    language: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32))
    previous_category: Mapped[str | None] = mapped_column(String(32))
    parameter_format: Mapped[str] = mapped_column(String(16), default="POSITIONAL")
    components: Mapped[list[Any]] = mapped_column(JSON, default=_json_list)
    status: Mapped[str] = mapped_column(String(32), default="PENDING")
    rejected_reason: Mapped[str | None] = mapped_column(String(64))
    quality_score: Mapped[str] = mapped_column(String(16), default="UNKNOWN")
    mm_lite_available: Mapped[bool] = mapped_column(Boolean, default=True)  # False → 134102 on MM Lite
    edits: Mapped[list[str]] = mapped_column(JSON, default=_json_list)  # ISO times of edits
    history: Mapped[list[Any]] = mapped_column(JSON, default=_json_list)  # [{"at", "status", "reason"?}]
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SandboxFlow(Model):
    """A Flow known to the sandbox (only needed to block one: unknown flows are sendable)."""

    __tablename__ = "sandbox_flows"
    __table_args__ = (UniqueConstraint("waba_pk", "flow_key"),)

    waba_pk: Mapped[int] = mapped_column(BigId, ForeignKey("sandbox_wabas.id", ondelete="CASCADE"), index=True)
    flow_key: Mapped[str] = mapped_column(String(200))  # "id:<flow_id>" or "name:<flow_name>"
    status: Mapped[str] = mapped_column(String(16), default="PUBLISHED")  # PUBLISHED | BLOCKED | THROTTLED


class SandboxOrder(Model):
    """The last order_details / order_status per reference_id of a business, and its payment (India)."""

    __tablename__ = "sandbox_orders"
    __table_args__ = (UniqueConstraint("business_pk", "reference_id"),)

    business_pk: Mapped[int] = mapped_column(BigId, ForeignKey("sandbox_businesses.id", ondelete="CASCADE"))
    phone_pk: Mapped[int] = mapped_column(BigId, ForeignKey("sandbox_phone_numbers.id", ondelete="CASCADE"))
    reference_id: Mapped[str] = mapped_column(String(64))
    wa_id: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(32), default="pending")  # pending | processing | … | canceled
    payment_status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | captured
    configuration_name: Mapped[str | None] = mapped_column(String(64))
    gateway: Mapped[str | None] = mapped_column(String(16))
    total_value: Mapped[int] = mapped_column(Integer, default=0)
    receipt: Mapped[str | None] = mapped_column(String(64))
    notes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    transactions: Mapped[list[Any]] = mapped_column(JSON, default=_json_list)


class SandboxWebhookDelivery(Model):
    """One POST of one webhook body to one app's callback, with its retry state."""

    __tablename__ = "sandbox_webhook_deliveries"

    app_pk: Mapped[int] = mapped_column(BigId, ForeignKey("sandbox_apps.id", ondelete="CASCADE"), index=True)
    waba_id: Mapped[str] = mapped_column(String(64), index=True)
    field: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)  # the exact bytes signed and POSTed (UTF-8)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | delivered | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SandboxSetting(Model):
    """Key → JSON: the behaviour profile and other sandbox-wide switches."""

    __tablename__ = "sandbox_settings"

    key: Mapped[str] = mapped_column(String(64), unique=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SandboxUpload(Model):
    """A Resumable Upload API session of an app (`POST /{app-id}/uploads`) and, once complete, its file handle:
    the sample file a template's media header names in `example.header_handle`."""

    __tablename__ = "sandbox_uploads"

    session_key: Mapped[str] = mapped_column(String(64), unique=True)  # the id inside "upload:<…>"
    app_pk: Mapped[int] = mapped_column(BigId, ForeignKey("sandbox_apps.id", ondelete="CASCADE"), index=True)
    business_pk: Mapped[int] = mapped_column(BigId, ForeignKey("sandbox_businesses.id", ondelete="CASCADE"))
    file_name: Mapped[str] = mapped_column(String(255))
    file_type: Mapped[str] = mapped_column(String(64))
    file_length: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary, default=b"")  # the bytes received so far
    handle: Mapped[str | None] = mapped_column(String(255), unique=True)  # "4::…" once every byte arrived
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
