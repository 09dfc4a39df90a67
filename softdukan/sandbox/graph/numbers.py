"""Phone numbers: add (new or migrated), codes, register/deregister with PIN, two-step PIN, display name,
GET with fields, list per WABA, coexistence sync, commerce settings (reference §10, §11)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from softdukan.platform.uow import UnitOfWork
from softdukan.sandbox.graph.errors import GraphFault, template_fault
from softdukan.sandbox.graph.ids import request_id, six_digits
from softdukan.sandbox.graph.profile import load_profile
from softdukan.sandbox.models import SandboxBusiness, SandboxPhoneNumber, SandboxSubscription, SandboxWaba
from softdukan.sandbox.service.accounts import digits_of, new_phone

REGIONS = ("AU", "ID", "IN", "JP", "SG", "KR", "DE", "CH", "GB", "BR", "BH", "ZA", "AE", "CA")
REGISTER_WINDOW = timedelta(hours=72)
DELETED_WAIT = timedelta(minutes=5)


def _pin(value: Any) -> str:
    pin = str(value) if value is not None else ""
    if len(pin) != 6 or not pin.isdigit():
        raise GraphFault(100, "Param pin must be a 6-digit number.")
    return pin


async def add(uow: UnitOfWork, waba: SandboxWaba, body: dict[str, Any]) -> dict[str, Any]:
    cc = str(body.get("cc") or body.get("country_code") or "").lstrip("+")
    number = str(body.get("phone_number") or "")
    if not cc or not number:
        raise GraphFault(100, "The parameters cc and phone_number are required.")
    digits = digits_of(cc + number)
    migrate = str(body.get("migrate_phone_number", "")).lower() in ("true", "1")
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
    if any(p.waba_pk == waba.id for p in existing):
        raise template_fault(
            2388012, "Phone number already in your account", f"+{digits} is already in this WhatsApp Business account."
        )
    if migrate:
        return await _migrate(uow, waba, digits, existing)
    if any(p.registered or p.coexistence for p in existing):
        raise GraphFault(
            100,
            f"+{digits} is registered with another WhatsApp Business account. Migrate it with "
            "migrate_phone_number=true.",
        )
    business = await uow.session.get(SandboxBusiness, waba.business_pk)
    assert business is not None
    cap = 20 if business.verified or business.messaging_limit_tier != "TIER_250" else 2
    count = (
        await uow.session.execute(
            select(func.count(SandboxPhoneNumber.id))
            .join(SandboxWaba, SandboxWaba.id == SandboxPhoneNumber.waba_pk)
            .where(SandboxWaba.business_pk == business.id, SandboxPhoneNumber.deleted_at.is_(None))
        )
    ).scalar_one()
    if int(count) >= cap:
        raise GraphFault(100, f"This business portfolio may have at most {cap} phone numbers.")
    verified_name = body.get("verified_name")
    if not isinstance(verified_name, str) or not verified_name.strip():
        raise GraphFault(100, "The parameter verified_name is required.")
    phone = await new_phone(uow, waba, digits, verified_name=verified_name.strip(), name_status="PENDING_REVIEW")
    await _schedule_name_review(uow, phone)
    return {"id": phone.phone_number_id}


async def _migrate(
    uow: UnitOfWork, waba: SandboxWaba, digits: str, existing: list[SandboxPhoneNumber]
) -> dict[str, Any]:
    source = next((p for p in existing if p.registered), None)
    if source is None:
        raise GraphFault(100, f"+{digits} is not registered anywhere: add it without migrate_phone_number.")
    if source.coexistence or source.is_test_number:
        raise template_fault(2388103, "Can't migrate", "Coexistence and test numbers can't be migrated this way.")
    if source.two_step_enabled:
        raise template_fault(
            2388001,
            "Two-step verification is on",
            "Disable two-step verification at the current provider before migrating.",
        )
    if source.name_status != "APPROVED":
        raise template_fault(2388103, "Can't migrate", "The display name of the number is not approved.")
    subscribed = (
        await uow.session.execute(select(SandboxSubscription.id).where(SandboxSubscription.waba_pk == waba.id))
    ).first()
    if subscribed is None:
        raise template_fault(
            2388103, "Can't migrate", "The destination WhatsApp Business account has no subscribed app."
        )
    source.waba_pk, source.migrating, source.registered, source.status = waba.id, True, False, "PENDING"
    source.code_verification_status, source.last_code = "NOT_VERIFIED", None
    return {"id": source.phone_number_id}


async def request_code(uow: UnitOfWork, phone: SandboxPhoneNumber, body: dict[str, Any]) -> dict[str, Any]:
    method = str(body.get("code_method", "")).upper()
    if method not in ("SMS", "VOICE"):
        raise GraphFault(100, "Param code_method must be SMS or VOICE.")
    if not body.get("language"):
        raise GraphFault(100, "The parameter language is required.")
    if phone.coexistence:
        raise template_fault(2388091, "Not eligible", "This number is not eligible to request a code.")
    if phone.registered and not phone.migrating:
        raise template_fault(2388091, "Not eligible", "This number is already registered.")
    phone.last_code, phone.code_sent_at = six_digits(), uow.clock.now()
    return {"success": True}


async def verify_code(uow: UnitOfWork, phone: SandboxPhoneNumber, body: dict[str, Any]) -> dict[str, Any]:
    code = str(body.get("code") or "")
    if not code:
        raise GraphFault(100, "The parameter code is required.")
    if phone.coexistence:
        raise template_fault(2388093, "Not eligible", "This number is not eligible to verify a code.")
    expired = phone.code_sent_at is None or phone.code_sent_at < uow.clock.now() - timedelta(minutes=10)
    if not phone.last_code or code != phone.last_code or expired:
        raise GraphFault(
            136025,
            "The code you entered is incorrect or has expired. Request a new code.",
            status=400,
            message="(#136025) Verify code error",
        )
    phone.code_verification_status = "VERIFIED"
    return {"success": True}


def _recent_events(phone: SandboxPhoneNumber, now: datetime) -> list[str]:
    return [s for s in phone.register_events if datetime.fromisoformat(s) > now - REGISTER_WINDOW]


def _check_register_rate(phone: SandboxPhoneNumber, now: datetime) -> None:
    if len(_recent_events(phone, now)) >= 10:
        raise GraphFault(133016, "This number was registered or deregistered 10 times in 72 hours; try again later.")


async def register(uow: UnitOfWork, phone: SandboxPhoneNumber, body: dict[str, Any]) -> dict[str, Any]:
    now = uow.clock.now()
    if str(body.get("messaging_product", "")).lower() != "whatsapp":
        raise GraphFault(100, "The parameter messaging_product is required.")
    pin = _pin(body.get("pin"))
    region = body.get("data_localization_region")
    if region is not None and str(region).upper() not in REGIONS:
        raise GraphFault(100, f"Param data_localization_region must be one of {', '.join(REGIONS)}.")
    if phone.coexistence:
        raise GraphFault(100, "Numbers on the WhatsApp Business app (coexistence) are not registered through the API.")
    recently_deleted = (
        await uow.session.execute(
            select(SandboxPhoneNumber.id).where(
                SandboxPhoneNumber.wa_number == phone.wa_number, SandboxPhoneNumber.deleted_at > now - DELETED_WAIT
            )
        )
    ).first()
    if recently_deleted is not None:
        raise GraphFault(133015, "This number was deleted less than 5 minutes ago; wait before registering it.")
    _check_register_rate(phone, now)
    if phone.code_verification_status != "VERIFIED":
        raise GraphFault(133006, "Verify the number with request_code and verify_code before registering it.")
    if phone.two_step_enabled and phone.pin:
        await _check_pin_guess(uow, phone, pin, now)
    if not phone.two_step_enabled:
        phone.pin, phone.two_step_enabled = pin, True
    phone.registered, phone.status, phone.registered_at = True, "CONNECTED", now
    phone.needs_reregister, phone.migrating = False, False
    phone.data_localization_region = str(region).upper() if region else None
    phone.register_events = [*_recent_events(phone, now), now.isoformat()]
    return {"success": True}


async def _check_pin_guess(uow: UnitOfWork, phone: SandboxPhoneNumber, pin: str, now: datetime) -> None:
    """Two-step PIN guesses (reference §1.2 "Registration"): `pin_guess_limit` wrong PINs within
    `pin_guess_window_seconds` lock registration (133008, even for the right PIN) until the oldest ages out; a wrong
    PIN sooner than `pin_guess_min_interval_seconds` after the previous wrong one is 133009 instead of 133005."""
    profile = await load_profile(uow)
    window = timedelta(seconds=profile.pin_guess_window_seconds)
    recent = [s for s in phone.pin_failure_times or [] if datetime.fromisoformat(s) > now - window]
    if len(recent) >= profile.pin_guess_limit:
        retry_at = datetime.fromisoformat(recent[0]) + window
        raise GraphFault(
            133008,
            f"Too many two-step verification PIN guesses for this phone number. Try again after "
            f"{retry_at.strftime('%Y-%m-%d %H:%M:%S')} UTC.",
        )
    if pin == phone.pin:
        phone.pin_failure_times, phone.pin_failures = [], 0
        return
    previous = datetime.fromisoformat(recent[-1]) if recent else None
    phone.pin_failure_times = [*recent, now.isoformat()]
    phone.pin_failures = len(phone.pin_failure_times)
    await uow.release()  # the wrong guess is remembered although the request fails (the edge rolls back errors)
    if previous is not None and now - previous < timedelta(seconds=profile.pin_guess_min_interval_seconds):
        raise GraphFault(
            133009, "Two-step verification PIN was entered too quickly. Check the PIN and try again later."
        )
    raise GraphFault(133005, "The two-step verification PIN is incorrect.")


async def deregister(uow: UnitOfWork, phone: SandboxPhoneNumber) -> dict[str, Any]:
    now = uow.clock.now()
    if phone.coexistence:
        raise GraphFault(
            100,
            "Numbers on the WhatsApp Business app (coexistence) can't be deregistered; disconnect "
            "from the app instead.",
        )
    _check_register_rate(phone, now)
    phone.registered, phone.status = False, "DISCONNECTED"
    phone.register_events = [*_recent_events(phone, now), now.isoformat()]
    return {"success": True}


async def update(uow: UnitOfWork, phone: SandboxPhoneNumber, body: dict[str, Any]) -> dict[str, Any]:
    """`POST /{phone-number-id}`: two-step PIN and/or a new display name."""
    if "pin" not in body and "new_display_name" not in body:
        raise GraphFault(100, "Give pin or new_display_name.")
    if "pin" in body:
        phone.pin, phone.two_step_enabled = _pin(body["pin"]), True
    if "new_display_name" in body:
        name = body["new_display_name"]
        if not isinstance(name, str) or not 3 <= len(name.strip()) <= 512:
            raise GraphFault(100, "Param new_display_name must be 3 to 512 characters.")
        phone.new_display_name, phone.new_name_status = name.strip(), "PENDING_REVIEW"
        await _schedule_name_review(uow, phone)
    return {"success": True}


async def _schedule_name_review(uow: UnitOfWork, phone: SandboxPhoneNumber) -> None:
    profile = await load_profile(uow)
    uow.enqueue(
        "sandbox.review_display_name",
        phone_pk=phone.id,
        run_at=uow.clock.now() + timedelta(seconds=profile.display_name_review_delay_seconds),
    )


async def review_display_name(uow: UnitOfWork, phone_pk: int) -> None:
    phone = await uow.session.get(SandboxPhoneNumber, phone_pk)
    if phone is None:
        return
    if phone.new_display_name and phone.new_name_status == "PENDING_REVIEW":
        phone.verified_name, phone.new_name_status = phone.new_display_name, "APPROVED"
        phone.new_display_name, phone.name_status = None, "APPROVED"
        phone.needs_reregister = phone.registered  # a display-name change needs a new registration
    elif phone.name_status == "PENDING_REVIEW":
        phone.name_status = "APPROVED"


async def view(uow: UnitOfWork, phone: SandboxPhoneNumber, fields: list[str] | None) -> dict[str, Any]:
    waba = await uow.session.get(SandboxWaba, phone.waba_pk) if phone.waba_pk else None
    business = await uow.session.get(SandboxBusiness, waba.business_pk) if waba else None
    tier = business.messaging_limit_tier if business else "TIER_250"
    full: dict[str, Any] = {
        "verified_name": phone.verified_name,
        "code_verification_status": phone.code_verification_status,
        "display_phone_number": phone.display_phone_number,
        "quality_rating": phone.quality_rating,
        "platform_type": "CLOUD_API" if phone.registered or phone.coexistence else "NOT_APPLICABLE",
        "throughput": {"level": "STANDARD" if phone.throughput_level == "COEXISTENCE" else phone.throughput_level},
        "status": phone.status,
        "is_on_biz_app": phone.coexistence,
        "name_status": phone.name_status,
        "new_name_status": phone.new_name_status,
        "account_mode": "SANDBOX" if phone.is_test_number else "LIVE",
        "is_pin_enabled": phone.two_step_enabled,
        "is_official_business_account": False,
        "messaging_limit_tier": tier,
        "whatsapp_business_manager_messaging_limit": tier,
        "health_status": {"can_send_message": "AVAILABLE" if phone.registered else "BLOCKED"},
        "last_onboarded_time": (phone.onboarded_at or phone.registered_at or phone.created_at).strftime(
            "%Y-%m-%dT%H:%M:%S+0000"
        ),
        "country_dial_code": _dial_code(phone.wa_number),
        "webhook_configuration": {"application": await _callback(uow, waba)},
        "search_visibility": "VISIBLE",
        "is_preverified_number": False,
        "data_localization_region": phone.data_localization_region,
    }
    default = (
        "verified_name",
        "code_verification_status",
        "display_phone_number",
        "quality_rating",
        "platform_type",
        "throughput",
        "webhook_configuration",
    )
    out = {key: full[key] for key in (fields or default) if key in full and full[key] is not None}
    out["id"] = phone.phone_number_id
    return out


def _dial_code(digits: str) -> str:
    for length in (3, 2, 1):
        if digits[:length] in ("91", "1", "44", "971", "65", "62", "234", "27", "55", "61"):
            return digits[:length]
    return digits[:2]


async def _callback(uow: UnitOfWork, waba: SandboxWaba | None) -> str | None:
    if waba is None:
        return None
    from softdukan.sandbox.models import SandboxApp

    row = (
        await uow.session.execute(
            select(SandboxSubscription, SandboxApp)
            .join(SandboxApp, SandboxApp.id == SandboxSubscription.app_pk)
            .where(SandboxSubscription.waba_pk == waba.id)
        )
    ).first()
    if row is None:
        return None
    return row[0].override_callback_uri or row[1].callback_url


async def listing(uow: UnitOfWork, waba: SandboxWaba, fields: list[str] | None) -> dict[str, Any]:
    phones = (
        (
            await uow.session.execute(
                select(SandboxPhoneNumber)
                .where(SandboxPhoneNumber.waba_pk == waba.id, SandboxPhoneNumber.deleted_at.is_(None))
                .order_by(SandboxPhoneNumber.id)
            )
        )
        .scalars()
        .all()
    )
    data = [await view(uow, p, fields) for p in phones]
    return {"data": data, "paging": {"cursors": {"before": "", "after": ""}}}


async def smb_app_data(uow: UnitOfWork, phone: SandboxPhoneNumber, body: dict[str, Any]) -> dict[str, Any]:
    sync_type = str(body.get("sync_type", ""))
    if sync_type not in ("smb_app_state_sync", "history"):
        raise GraphFault(100, "Param sync_type must be smb_app_state_sync or history.")
    if not phone.coexistence or phone.onboarded_at is None:
        raise GraphFault(100, "Only numbers onboarded from the WhatsApp Business app can sync app data.")
    if sync_type in phone.sync_requests:
        raise GraphFault(
            100,
            "This sync was already requested.",
            subcode=2593107,
            user_title="Sync already requested",
            user_msg="Each sync may be requested once.",
        )
    if uow.clock.now() > phone.onboarded_at + timedelta(hours=24):
        raise GraphFault(
            100,
            "Syncs must be requested within 24 hours of onboarding.",
            subcode=2593108,
            user_title="Sync window passed",
            user_msg="Syncs must be requested within 24 hours.",
        )
    rid = request_id()
    phone.sync_requests = {**phone.sync_requests, sync_type: rid}
    profile = await load_profile(uow)  # the webhooks follow (graph/coexistence.py)
    uow.enqueue(
        "sandbox.coexistence_sync",
        run_at=uow.clock.now() + timedelta(seconds=profile.history_delay_seconds),
        phone_pk=phone.id,
        sync_type=sync_type,
    )
    return {"messaging_product": "whatsapp", "request_id": rid}


def commerce_get(phone: SandboxPhoneNumber) -> dict[str, Any]:
    settings = phone.commerce_settings or {}
    return {
        "data": [
            {
                "is_cart_enabled": bool(settings.get("is_cart_enabled", True)),
                "is_catalog_visible": bool(settings.get("is_catalog_visible", True)),
                "id": phone.phone_number_id + "1",
            }
        ]
    }


def commerce_set(phone: SandboxPhoneNumber, body: dict[str, Any]) -> dict[str, Any]:
    settings = dict(phone.commerce_settings or {})
    for key in ("is_cart_enabled", "is_catalog_visible"):
        if key in body:
            value = body[key]
            settings[key] = value if isinstance(value, bool) else str(value).lower() in ("true", "1")
    phone.commerce_settings = settings
    return {"success": True}
