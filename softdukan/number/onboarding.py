"""Connecting numbers: the steps of Meta's embedded signup, one service function per step.

New number:   connect_account → add_number → request_code → verify_code → register → subscribe → (display name)
              → finish
Migration:    the same with add_number(migrate=True) and register() given the number's two-step PIN
Coexistence:  connect_coexistence (WhatsApp Business app number: no code, no registration) → subscribe →
              history_import (offered) → finish

Each step records `PhoneNumber.onboarding_step`, so the wizard resumes where it stopped. Each call to Meta
happens after `uow.release()`: no database transaction (on SQLite, the write lock) is held while Meta — or
the sandbox in the same process — answers. The dashboard and /v1 call the same functions.
"""

from __future__ import annotations

from typing import Any

import phonenumbers

from softdukan.audit.service import audit_service
from softdukan.auth.subject import Subject
from softdukan.kit.crypto import new_token, token_hash
from softdukan.number.errors import MetaRejected, meta_call
from softdukan.number.graph import SandboxControl, account_client, graph_client, webhook_url
from softdukan.number.models import (
    CONNECTED,
    DISCONNECTED,
    HISTORY_DECLINED,
    HISTORY_REQUESTED,
    PENDING,
    SOURCE_COEXISTENCE,
    SOURCE_MIGRATION,
    SOURCE_NEW,
    STEP_ADDED,
    STEP_CODE_REQUESTED,
    STEP_DONE,
    STEP_REGISTERED,
    STEP_SUBSCRIBED,
    STEP_VERIFIED,
    PhoneNumber,
    WhatsAppAccount,
)
from softdukan.number.repository import AccountRepository, PhoneNumberRepository
from softdukan.number.service import (
    COEXISTENCE_MPS,
    NumberView,
    emit_number,
    number_service,
    refresh_from_meta,
    throughput_mps,
)
from softdukan.platform.errors import Conflict, DomainError, Invalid
from softdukan.platform.uow import UnitOfWork

CODE_METHODS = ("SMS", "VOICE")
NO_COEXISTENCE = {"234", "27"}  # Nigeria, South Africa (reference §10.3)
STEP_LABELS = {STEP_ADDED: "Number added", STEP_CODE_REQUESTED: "Code sent", STEP_VERIFIED: "Number verified",
               STEP_REGISTERED: "Registered", STEP_SUBSCRIBED: "Webhooks subscribed", STEP_DONE: "Connected"}


# -- input checks ----------------------------------------------------------------------------------------------


def clean_text(value: str, field: str, label: str, *, minimum: int = 1, maximum: int = 200) -> str:
    value = " ".join((value or "").split())
    if not minimum <= len(value) <= maximum:
        raise Invalid("invalid_input", f"{label} must be {minimum} to {maximum} characters.",
                      {field: f"Use {minimum} to {maximum} characters."})
    return value


def split_number(raw: str, field: str = "phone_number") -> tuple[str, str, str]:
    """(country code, national number, E.164 digits) of a number typed with or without '+' (India by default)."""
    raw = (raw or "").strip()
    problem = "Enter the number with its country code, e.g. +91 98123 45678."
    if not raw or len(raw) > 40:
        raise Invalid("invalid_phone_number", problem, {field: problem})
    try:
        number = phonenumbers.parse(raw, None if raw.startswith("+") else "IN")
    except phonenumbers.NumberParseException:
        raise Invalid("invalid_phone_number", f"'{raw}' is not a phone number.", {field: problem}) from None
    if not phonenumbers.is_possible_number(number):
        raise Invalid("invalid_phone_number", f"'{raw}' is not a possible phone number.", {field: problem})
    cc, national = str(number.country_code), str(number.national_number)
    return cc, national, cc + national


def six_digits(value: str, field: str, label: str) -> str:
    value = (value or "").strip()
    if len(value) != 6 or not value.isascii() or not value.isdigit():
        raise Invalid("invalid_input", f"The {label} is 6 digits.", {field: "Enter 6 digits."})
    return value


def _expect_step(number: PhoneNumber, *steps: str, doing: str) -> None:
    if number.onboarding_step not in steps:
        raise Conflict("wrong_onboarding_step",
                       f"This number can't {doing} now: it is at the step '{STEP_LABELS.get(number.onboarding_step)}'.",
                       {"onboarding_step": number.onboarding_step, "expected": list(steps)})


def _not_coexistence(number: PhoneNumber, doing: str) -> None:
    if number.source == SOURCE_COEXISTENCE:
        raise Conflict("not_for_coexistence",
                       f"A WhatsApp Business app number can't {doing}: it stays registered by the app.")


class OnboardingService:
    # -- business portfolio + WABA (embedded signup) ------------------------------------------------------------

    async def _signup(self, uow: UnitOfWork, *, business_name: str, waba_name: str, code: str | None,
                      waba_id: str | None, business_id: str | None, coexistence_number: str | None = None
                      ) -> tuple[dict[str, Any], str]:
        """What the embedded-signup popup returned, and the business token its code exchanges for."""
        settings = uow.settings
        app_id, app_secret = settings.platform_app
        await uow.release()
        if code is None:
            if not settings.sandbox:
                raise Invalid("signup_code_required", "Finish Meta's sign-up popup first: its code and WABA id are "
                              "needed.", {"code": "Required outside the sandbox."})
            control = SandboxControl(settings)
            async with meta_call("start the sign-up"):
                # the sandbox knows the platform app only once told its secret (Meta knows it from the app dashboard)
                await control.register_app(app_id, app_secret)
                popup = await control.signup(app_id, business_name=business_name, waba_name=waba_name,
                                             coexistence_number=coexistence_number)
        else:
            if not waba_id:
                raise Invalid("invalid_input", "The WABA id from the sign-up is missing.", {"waba_id": "Required."})
            popup = {"code": code, "waba_id": waba_id, "business_id": business_id}
        if not isinstance(popup.get("code"), str) or not popup.get("waba_id"):
            raise MetaRejected("whatsapp_signup_incomplete", "The sign-up did not return a code and a WABA id.")
        async with meta_call("exchange the sign-up code"), graph_client(settings, "") as client:
            token = await client.exchange_code(app_id, app_secret, popup["code"])
        return popup, token

    async def _save_account(self, uow: UnitOfWork, subject: Subject, *, popup: dict[str, Any], token: str,
                            name: str) -> WhatsAppAccount:
        secrets, settings = uow.runtime.secrets, uow.settings
        waba_id = str(popup["waba_id"])[:64]
        account = await AccountRepository(uow.session).by_waba_id(waba_id)
        if account is not None and account.organization_id != subject.organization_id:
            raise Conflict("waba_connected_elsewhere", "This WhatsApp Business account is connected to another "
                           "organization.")
        app_id, app_secret = settings.platform_app
        if account is None:
            verify_token = new_token(24)
            account = WhatsAppAccount(
                organization_id=subject.organization_id, waba_id=waba_id, name=name, app_id=app_id,
                business_id=str(popup.get("business_id") or "")[:64] or None,
                access_token_sealed=secrets.seal(token), app_secret_sealed=secrets.seal(app_secret),
                verify_token_sealed=secrets.seal(verify_token),
                verify_token_hash=token_hash(settings.softdukan_secret_key, verify_token), created_at=uow.clock.now())
            uow.session.add(account)
            await uow.flush()
            audit_service.record(uow, "number.account_connected", subject=subject, target=account, target_label=name,
                                 waba_id=waba_id)
        else:  # signed up again with the same WABA: a fresh token, same account
            account.access_token_sealed = secrets.seal(token)
            account.status = "ACTIVE"
            audit_service.record(uow, "number.account_reconnected", subject=subject, target=account,
                                 target_label=account.name, waba_id=waba_id)
        return account

    async def connect_account(self, uow: UnitOfWork, subject: Subject, *, business_name: str, waba_name: str,
                              code: str | None = None, waba_id: str | None = None, business_id: str | None = None
                              ) -> WhatsAppAccount:
        """Step 1: the business portfolio and its WhatsApp Business account, through embedded signup.

        In sandbox mode without a `code`, the sandbox plays Meta's popup; otherwise pass what the popup returned.
        """
        subject.require("numbers:write")
        business_name = clean_text(business_name, "business_name", "Business name")
        waba_name = clean_text(waba_name, "waba_name", "WhatsApp account name")
        popup, token = await self._signup(uow, business_name=business_name, waba_name=waba_name, code=code,
                                          waba_id=waba_id, business_id=business_id)
        return await self._save_account(uow, subject, popup=popup, token=token, name=waba_name)

    async def connect_coexistence(self, uow: UnitOfWork, subject: Subject, *, business_name: str, waba_name: str,
                                  phone_number: str, code: str | None = None, waba_id: str | None = None,
                                  business_id: str | None = None, phone_number_id: str | None = None) -> NumberView:
        """Bring a WhatsApp Business app number (coexistence): signup onboards it; no code, no registration."""
        subject.require("numbers:write")
        business_name = clean_text(business_name, "business_name", "Business name")
        waba_name = clean_text(waba_name, "waba_name", "WhatsApp account name")
        cc, _, wa_number = split_number(phone_number)
        if cc in NO_COEXISTENCE:
            raise Invalid("coexistence_unsupported", "WhatsApp Business app numbers from this country can't use the "
                          "Cloud API at the same time.", {"phone_number": "Not supported for this country."})
        await self._not_connected(uow, subject, wa_number)
        popup, token = await self._signup(uow, business_name=business_name, waba_name=waba_name, code=code,
                                          waba_id=waba_id, business_id=business_id, coexistence_number=wa_number)
        pnid = popup.get("phone_number_id") or phone_number_id
        if not pnid:
            raise MetaRejected("whatsapp_signup_incomplete", "The sign-up did not say which phone number it onboarded.")
        account = await self._save_account(uow, subject, popup=popup, token=token, name=waba_name)
        number = await self._save_number(uow, subject, account, phone_number_id=str(pnid), wa_number=wa_number,
                                         verified_name=business_name, source=SOURCE_COEXISTENCE)
        number.status = CONNECTED  # already on WhatsApp through the app
        await self._refresh_quietly(uow, account, number)
        return NumberView(number, account)

    # -- the number ---------------------------------------------------------------------------------------------

    async def _not_connected(self, uow: UnitOfWork, subject: Subject, wa_number: str) -> None:
        existing = await PhoneNumberRepository(uow.session).by_wa_number(subject, wa_number)
        if existing is not None and existing.status != DISCONNECTED:
            raise Conflict("number_already_connected", f"+{wa_number} is already connected to this organization.",
                           {"phone_number": "Already connected."})
        await self._room_for_a_number(uow, subject)

    async def _room_for_a_number(self, uow: UnitOfWork, subject: Subject) -> None:
        """The plan's number limit (a number reconnected counts again): before Meta is asked for anything, and
        again where the number is saved, counted under the limit's lock until that transaction commits."""
        from softdukan.subscription import entitlements

        async def connected() -> int:
            return sum(1 for n in await PhoneNumberRepository(uow.session).list(subject) if n.status != DISCONNECTED)

        await entitlements.require_room(uow, subject.organization_id, "numbers", connected)

    async def _save_number(self, uow: UnitOfWork, subject: Subject, account: WhatsAppAccount, *, phone_number_id: str,
                           wa_number: str, verified_name: str, source: str) -> PhoneNumber:
        numbers = PhoneNumberRepository(uow.session)
        number = await numbers.by_phone_number_id(phone_number_id)
        if number is not None and number.organization_id != subject.organization_id:
            raise Conflict("number_connected_elsewhere", "This phone number is connected to another organization.")
        if number is None or number.status == DISCONNECTED:
            # again, under the limit's lock: the check before Meta was asked ended with its transaction
            await self._room_for_a_number(uow, subject)
        if number is None:
            first = not any(n.is_default for n in await numbers.list(subject))
            number = PhoneNumber(organization_id=subject.organization_id, account_id=account.id,
                                 phone_number_id=phone_number_id[:64], display_phone_number=f"+{wa_number}",
                                 wa_number=wa_number, verified_name=verified_name, status=PENDING,
                                 onboarding_step=STEP_ADDED, source=source, is_default=first,
                                 created_at=uow.clock.now())
            uow.session.add(number)
        number.account_id, number.source = account.id, source
        number.throughput_mps = COEXISTENCE_MPS if source == SOURCE_COEXISTENCE else throughput_mps(number)
        await uow.flush()
        from softdukan.subscription.service import claim_for_trial

        await claim_for_trial(uow, subject.organization_id, "phone", f"+{wa_number}")  # one trial per business
        audit_service.record(uow, "number.added", subject=subject, target=number, target_label=f"+{wa_number}",
                             source=source)
        emit_number(uow, number)
        return number

    async def add_number(self, uow: UnitOfWork, subject: Subject, account_id: int, *, phone_number: str,
                         verified_name: str, migrate: bool = False) -> NumberView:
        """Add a number to the WABA (or, `migrate`, start moving it here from another provider)."""
        subject.require("numbers:write")
        account = await number_service.get_account(uow, subject, account_id)
        if account.status == DISCONNECTED:
            raise Conflict("account_disconnected", "This WhatsApp Business account is disconnected; connect it again.")
        cc, national, wa_number = split_number(phone_number)
        verified_name = clean_text(verified_name, "verified_name", "Display name", minimum=3)
        await self._not_connected(uow, subject, wa_number)
        if migrate and account.webhooks_subscribed_at is None:
            # Meta moves a number only to a WABA with a webhook-subscribed app (reference §10.4)
            await self._subscribe_account(uow, subject, account)
        await uow.release()
        async with meta_call("add the number"), account_client(uow.runtime, account) as client:
            pnid = await client.add_phone_number(account.waba_id, cc=cc, phone_number=national,
                                                 verified_name=verified_name, migrate=migrate)
        source = SOURCE_MIGRATION if migrate else SOURCE_NEW
        number = await self._save_number(uow, subject, account, phone_number_id=str(pnid), wa_number=wa_number,
                                         verified_name=verified_name, source=source)
        return NumberView(number, account)

    async def request_code(self, uow: UnitOfWork, subject: Subject, number_id: int, *, method: str = "SMS",
                           language: str = "en_US") -> NumberView:
        subject.require("numbers:write")
        view = await number_service.get(uow, subject, number_id)
        method = (method or "").strip().upper()
        if method not in CODE_METHODS:
            raise Invalid("invalid_input", "Choose SMS or a voice call.", {"method": "Choose SMS or VOICE."})
        language = (language or "en_US").strip()
        if not (2 <= len(language) <= 10 and language.replace("_", "").isalpha() and language.isascii()):
            raise Invalid("invalid_input", "The language is a code like en_US.", {"language": "Use a code like en_US."})
        _not_coexistence(view.number, "receive a verification code")
        _expect_step(view.number, STEP_ADDED, STEP_CODE_REQUESTED, doing="ask for a verification code")
        await uow.release()
        async with meta_call("send the verification code"), account_client(uow.runtime, view.account) as client:
            await client.request_code(view.number.phone_number_id, method=method, language=language)
        view.number.onboarding_step, view.number.code_method = STEP_CODE_REQUESTED, method
        emit_number(uow, view.number)
        return view

    async def verify_code(self, uow: UnitOfWork, subject: Subject, number_id: int, code: str) -> NumberView:
        subject.require("numbers:write")
        view = await number_service.get(uow, subject, number_id)
        code = six_digits(code, "code", "verification code")
        _expect_step(view.number, STEP_CODE_REQUESTED, doing="verify a code")
        await uow.release()
        async with meta_call("verify the code"), account_client(uow.runtime, view.account) as client:
            await client.verify_code(view.number.phone_number_id, code)
        view.number.onboarding_step, view.number.code_verification_status = STEP_VERIFIED, "VERIFIED"
        audit_service.record(uow, "number.verified", subject=subject, target=view.number,
                             target_label=view.number.display_phone_number)
        emit_number(uow, view.number)
        return view

    async def register(self, uow: UnitOfWork, subject: Subject, number_id: int, pin: str) -> NumberView:
        """Register for the Cloud API with a 6-digit PIN, which becomes the two-step PIN. A migrated number
        arrives with two-step verification switched off at the old provider (else Meta refused the move with
        2388001); were it still on, the PIN must match it (Meta's 133005)."""
        subject.require("numbers:write")
        view = await number_service.get(uow, subject, number_id)
        pin = six_digits(pin, "pin", "PIN")
        _not_coexistence(view.number, "be registered")
        _expect_step(view.number, STEP_VERIFIED, doing="be registered")
        await uow.release()
        async with meta_call("register the number"), account_client(uow.runtime, view.account) as client:
            await client.register(view.number.phone_number_id, pin)
        number = view.number
        number.onboarding_step, number.status, number.registered_at = STEP_REGISTERED, CONNECTED, uow.clock.now()
        number.pin_sealed = uow.runtime.secrets.seal(pin)
        audit_service.record(uow, "number.registered", subject=subject, target=number,
                             target_label=number.display_phone_number)
        emit_number(uow, number)
        return view

    async def subscribe(self, uow: UnitOfWork, subject: Subject, number_id: int) -> NumberView:
        """Subscribe the platform app to the WABA's webhooks, with our callback and the account's verify token."""
        subject.require("numbers:write")
        view = await number_service.get(uow, subject, number_id)
        ready = STEP_ADDED if view.number.source == SOURCE_COEXISTENCE else STEP_REGISTERED
        _expect_step(view.number, ready, STEP_SUBSCRIBED, doing="subscribe to webhooks")
        await self._subscribe_account(uow, subject, view.account)
        view.number.onboarding_step = STEP_SUBSCRIBED
        await self._refresh_quietly(uow, view.account, view.number)
        return view

    async def _subscribe_account(self, uow: UnitOfWork, subject: Subject, account: WhatsAppAccount) -> None:
        """POST /{waba}/subscribed_apps with our callback; Meta first checks it with the GET handshake, which
        finds the account by its verify token: the account row must be committed (release) before the call."""
        secrets = uow.runtime.secrets
        await uow.release()
        async with meta_call("subscribe to the account's webhooks"), account_client(uow.runtime, account) as client:
            await client.subscribe_app(account.waba_id, override_callback_uri=webhook_url(uow.settings),
                                       verify_token=secrets.open(account.verify_token_sealed))
        account.webhooks_subscribed_at = uow.clock.now()
        audit_service.record(uow, "number.webhooks_subscribed", subject=subject, target=account,
                             target_label=account.name)

    async def set_display_name(self, uow: UnitOfWork, subject: Subject, number_id: int, name: str) -> NumberView:
        """Ask Meta for a new display name (reviewed by Meta: `name_status`)."""
        subject.require("numbers:write")
        view = await number_service.get(uow, subject, number_id)
        name = clean_text(name, "display_name", "Display name", minimum=3)
        _not_coexistence(view.number, "change its display name here (change it in the WhatsApp Business app)")
        _expect_step(view.number, STEP_SUBSCRIBED, STEP_DONE, doing="change its display name")
        await uow.release()
        async with meta_call("change the display name"), account_client(uow.runtime, view.account) as client:
            await client.set_display_name(view.number.phone_number_id, name)
        view.number.new_display_name = name
        audit_service.record(uow, "number.display_name_requested", subject=subject, target=view.number,
                             target_label=view.number.display_phone_number, name=name)
        await self._refresh_quietly(uow, view.account, view.number)
        return view

    async def history_import(self, uow: UnitOfWork, subject: Subject, number_id: int, *, accept: bool) -> NumberView:
        """Coexistence: import the Business app's contacts and up to 180 days of chats, or decline (once)."""
        subject.require("numbers:write")
        view = await number_service.get(uow, subject, number_id)
        number = view.number
        if number.source != SOURCE_COEXISTENCE:
            raise Conflict("not_coexistence", "Only a WhatsApp Business app number has chat history to import.")
        _expect_step(number, STEP_SUBSCRIBED, STEP_DONE, doing="import chat history")
        if number.history_import is not None:
            raise Conflict("history_import_decided", "Chat history import was already requested or declined.")
        if accept:
            await uow.release()
            async with account_client(uow.runtime, view.account) as client:
                try:
                    async with meta_call("sync the app's contacts"):
                        await client.request_sync(number.phone_number_id, sync_type="smb_app_state_sync")
                except MetaRejected as exc:  # 2593107: asked once already (a retry after the history call failed)
                    if not isinstance(exc.details, dict) or exc.details.get("meta_code") != 2593107:
                        raise
                async with meta_call("import the chat history"):
                    await client.request_sync(number.phone_number_id, sync_type="history")
        number.history_import = HISTORY_REQUESTED if accept else HISTORY_DECLINED
        audit_service.record(uow, "number.history_import", subject=subject, target=number,
                             target_label=number.display_phone_number, accepted=accept)
        emit_number(uow, number)
        return view

    async def finish(self, uow: UnitOfWork, subject: Subject, number_id: int) -> NumberView:
        subject.require("numbers:write")
        view = await number_service.get(uow, subject, number_id)
        _expect_step(view.number, STEP_SUBSCRIBED, STEP_DONE, doing="finish connecting")
        if view.number.onboarding_step != STEP_DONE:
            view.number.onboarding_step = STEP_DONE
            audit_service.record(uow, "number.connected", subject=subject, target=view.number,
                                 target_label=view.number.display_phone_number, source=view.number.source)
            emit_number(uow, view.number)
        return view

    async def sandbox_code_hint(self, uow: UnitOfWork, subject: Subject, number_id: int) -> str | None:
        """Sandbox mode only: the code the sandbox 'sent' by SMS or voice, shown on the verify step."""
        subject.require("numbers:write")
        view = await number_service.get(uow, subject, number_id)
        if not uow.settings.sandbox or view.number.onboarding_step != STEP_CODE_REQUESTED:
            return None
        await uow.release()
        try:
            async with meta_call("read the sandbox's code"):
                return await SandboxControl(uow.settings).last_code(view.number.phone_number_id)
        except DomainError:
            return None  # only a hint

    async def _refresh_quietly(self, uow: UnitOfWork, account: WhatsAppAccount, number: PhoneNumber) -> None:
        """Read Meta's view of the number after a step; the step stands even if this read fails."""
        try:
            await refresh_from_meta(uow, account, number)
        except DomainError:
            emit_number(uow, number)


onboarding_service = OnboardingService()
