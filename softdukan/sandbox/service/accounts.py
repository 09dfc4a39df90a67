"""Apps, embedded signup, OAuth code exchange, provisioning and numbers at "another provider".

Services never commit: the caller's unit of work does (the control API's route, or the caller in-process).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import phonenumbers
from sqlalchemy import select

from softdukan.kit.crypto import constant_equals, new_token
from softdukan.platform.uow import UnitOfWork
from softdukan.sandbox.graph.access import issue_token
from softdukan.sandbox.graph.errors import GraphFault
from softdukan.sandbox.graph.ids import object_id, six_digits
from softdukan.sandbox.graph.profile import load_profile
from softdukan.sandbox.models import (
    SandboxApp,
    SandboxBusiness,
    SandboxOAuthCode,
    SandboxPhoneNumber,
    SandboxSubscription,
    SandboxWaba,
)


def digits_of(number: str) -> str:
    digits = "".join(ch for ch in str(number) if ch.isdigit())
    if not 8 <= len(digits) <= 15:
        raise GraphFault(131009, f"'{number}' is not a valid phone number in international format.")
    return digits


def pretty(digits: str) -> str:
    """Meta's display form, e.g. "+91 98765 43210"."""
    try:
        parsed = phonenumbers.parse("+" + digits)
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return "+" + digits


async def fresh_wa_number(uow: UnitOfWork) -> str:
    """An unused Indian mobile number for a new sandbox business number."""
    while True:
        digits = "9198" + six_digits() + six_digits()[:2]
        taken = (
            await uow.session.execute(select(SandboxPhoneNumber.id).where(SandboxPhoneNumber.wa_number == digits))
        ).first()
        if taken is None:
            return digits


async def upsert_app(
    uow: UnitOfWork, app_id: str, *, secret: str, callback_url: str | None = None, verify_token: str | None = None
) -> SandboxApp:
    if not app_id or not secret:
        raise GraphFault(100, "app_id and secret are required.")
    app = await app_by_id(uow, app_id)
    if app is None:
        app = SandboxApp(app_id=app_id, secret=secret)
        uow.session.add(app)
    app.secret = secret
    if callback_url is not None:
        app.callback_url = callback_url or None
    if verify_token is not None:
        app.verify_token = verify_token or None
    await uow.flush()
    return app


async def app_by_id(uow: UnitOfWork, app_id: str) -> SandboxApp | None:
    return (await uow.session.execute(select(SandboxApp).where(SandboxApp.app_id == app_id))).scalar_one_or_none()


async def _business_and_waba(
    uow: UnitOfWork, business_name: str, waba_name: str
) -> tuple[SandboxBusiness, SandboxWaba]:
    business = SandboxBusiness(
        business_id=object_id(),
        name=business_name or "Sandbox business",
        verified=False,
        messaging_limit_tier="TIER_250",
    )
    uow.session.add(business)
    await uow.flush()
    waba = SandboxWaba(
        waba_id=object_id(),
        business_pk=business.id,
        name=waba_name or business.name,
        currency="INR",
        status="ACTIVE",
        payment_method_ok=True,
        payments_tos_accepted=True,
    )
    uow.session.add(waba)
    await uow.flush()
    return business, waba


async def new_phone(
    uow: UnitOfWork, waba: SandboxWaba | None, wa_number: str, *, verified_name: str, **fields: Any
) -> SandboxPhoneNumber:
    phone = SandboxPhoneNumber(
        phone_number_id=object_id(),
        waba_pk=waba.id if waba else None,
        wa_number=wa_number,
        display_phone_number=pretty(wa_number),
        verified_name=verified_name,
        register_events=[],
        allowed_recipients=[],
        sync_requests={},
        commerce_settings={},
        **fields,
    )
    uow.session.add(phone)
    await uow.flush()
    return phone


async def signup(
    uow: UnitOfWork,
    *,
    app_id: str,
    business_name: str,
    waba_name: str,
    feature_type: str | None = None,
    phone_number: str | None = None,
    verified_name: str | None = None,
) -> dict[str, Any]:
    """Plays FB.login's Embedded Signup popup: a business, a WABA, maybe a number; returns the code to exchange."""
    app = await app_by_id(uow, app_id)
    if app is None:
        raise GraphFault(100, f"Unknown app {app_id}: register it with PUT /_sandbox/apps/{app_id} first.")
    business, waba = await _business_and_waba(uow, business_name, waba_name)
    now = uow.clock.now()
    result: dict[str, Any] = {"business_id": business.business_id, "waba_id": waba.waba_id}
    coexistence = feature_type in ("coexistence", "whatsapp_business_app_onboarding")
    if coexistence and not phone_number:
        raise GraphFault(131008, "The parameter phone_number is required for coexistence onboarding.")
    if phone_number:
        digits = digits_of(phone_number)
        if coexistence and digits.startswith(("234", "27")):
            raise GraphFault(
                131009, "Coexistence is not supported for numbers of Nigeria (+234) or South Africa (+27)."
            )
        await _release_number(uow, digits)
        fields: dict[str, Any] = {"name_status": "APPROVED", "code_verification_status": "VERIFIED"}
        if coexistence:  # on the WhatsApp Business app: registration is skipped, throughput fixed at 20
            fields |= {
                "coexistence": True,
                "registered": True,
                "status": "CONNECTED",
                "onboarded_at": now,
                "registered_at": now,
                "throughput_level": "COEXISTENCE",
            }
        phone = await new_phone(uow, waba, digits, verified_name=verified_name or business.name, **fields)
        result["phone_number_id"] = phone.phone_number_id
    profile = await load_profile(uow)
    code = "AQ" + new_token(40)
    uow.session.add(
        SandboxOAuthCode(
            code=code,
            app_pk=app.id,
            business_pk=business.id,
            waba_ids=[waba.waba_id],
            expires_at=now + timedelta(seconds=profile.oauth_code_ttl_seconds),
        )
    )
    result["code"] = code
    result["event"] = "FINISH_WHATSAPP_BUSINESS_APP_ONBOARDING" if coexistence else "FINISH"
    return result


async def _release_number(uow: UnitOfWork, digits: str) -> None:
    """A number lives on one WABA: refuse one already active on a sandbox WABA."""
    existing = (
        (
            await uow.session.execute(
                select(SandboxPhoneNumber).where(
                    SandboxPhoneNumber.wa_number == digits, SandboxPhoneNumber.deleted_at.is_(None)
                )
            )
        )
        .scalars()
        .all()
    )
    for phone in existing:
        if phone.waba_pk is not None and phone.registered:
            raise GraphFault(
                100,
                f"The phone number +{digits} is already registered to a WhatsApp Business account.",
                subcode=2388012,
                user_title="Phone number already in use",
                user_msg="This phone number is already registered on WhatsApp Business.",
            )


async def exchange_code(uow: UnitOfWork, *, client_id: str, client_secret: str, code: str) -> str:
    app = await app_by_id(uow, client_id)
    if app is None or not constant_equals(app.secret, client_secret or ""):
        raise GraphFault(1, "Error validating client secret.", message="Error validating client secret.")
    grant = (
        await uow.session.execute(select(SandboxOAuthCode).where(SandboxOAuthCode.code == code))
    ).scalar_one_or_none()
    if grant is None or grant.app_pk != app.id:
        raise GraphFault(
            100, "Invalid verification code format.", message="Invalid verification code format.", subcode=36007
        )
    if grant.used_at is not None:
        raise GraphFault(
            100,
            "This authorization code has been used.",
            message="This authorization code has been used.",
            subcode=36009,
        )
    if grant.expires_at <= uow.clock.now():
        raise GraphFault(
            100, "This authorization code has expired.", message="This authorization code has expired.", subcode=36007
        )
    grant.used_at = uow.clock.now()
    business = await uow.session.get(SandboxBusiness, grant.business_pk)
    assert business is not None
    return issue_token(uow, business, app_pk=app.id, waba_ids=list(grant.waba_ids))


async def last_code(uow: UnitOfWork, phone_number_id: str) -> str:
    phone = (
        await uow.session.execute(
            select(SandboxPhoneNumber).where(SandboxPhoneNumber.phone_number_id == phone_number_id)
        )
    ).scalar_one_or_none()
    if phone is None or not phone.last_code:
        raise GraphFault(100, f"No verification code was sent to phone number {phone_number_id}.")
    return phone.last_code


async def add_foreign_number(
    uow: UnitOfWork,
    *,
    phone_number: str,
    pin: str | None = None,
    two_step_enabled: bool = False,
    verified_name: str = "",
) -> dict[str, Any]:
    """A number registered at another provider, to be migrated in (reference §10.4)."""
    digits = digits_of(phone_number)
    if pin is not None and not (len(pin) == 6 and pin.isdigit()):
        raise GraphFault(131009, "Param pin must be 6 digits.")
    phone = await new_phone(
        uow,
        None,
        digits,
        verified_name=verified_name or "Migrated business",
        name_status="APPROVED",
        registered=True,
        status="CONNECTED",
        code_verification_status="VERIFIED",
        two_step_enabled=two_step_enabled,
        pin=pin,
    )
    return {
        "phone_number_id": phone.phone_number_id,
        "phone_number": digits,
        "display_phone_number": phone.display_phone_number,
        "two_step_enabled": two_step_enabled,
    }


async def provision(
    uow: UnitOfWork,
    *,
    app_id: str,
    app_secret: str,
    callback_url: str | None,
    verify_token: str | None,
    business_name: str,
    verified_name: str,
    display_phone_number: str | None = None,
    coexistence: bool = False,
) -> dict[str, Any]:
    """A registered, subscribed number with an approved display name, and a token for it (demo and tests).

    No verification handshake here: the product may not be serving yet (e.g. `softdukan demo`)."""
    app = await upsert_app(uow, app_id, secret=app_secret, callback_url=callback_url, verify_token=verify_token)
    business, waba = await _business_and_waba(uow, business_name, business_name)
    digits = digits_of(display_phone_number) if display_phone_number else await fresh_wa_number(uow)
    await _release_number(uow, digits)
    now = uow.clock.now()
    phone = await new_phone(
        uow,
        waba,
        digits,
        verified_name=verified_name,
        name_status="APPROVED",
        registered=True,
        status="CONNECTED",
        code_verification_status="VERIFIED",
        registered_at=now,
        two_step_enabled=True,
        pin=six_digits(),
        coexistence=coexistence,
        onboarded_at=now if coexistence else None,
        throughput_level="COEXISTENCE" if coexistence else "STANDARD",
    )
    uow.session.add(SandboxSubscription(waba_pk=waba.id, app_pk=app.id))
    token = issue_token(uow, business, app_pk=app.id, waba_ids=[waba.waba_id])
    await uow.flush()
    return {
        "business_id": business.business_id,
        "waba_id": waba.waba_id,
        "phone_number_id": phone.phone_number_id,
        "display_phone_number": digits,
        "access_token": token,
        "pin": phone.pin,
    }
