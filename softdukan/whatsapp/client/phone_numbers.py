"""Phone numbers, registration, webhook subscription, coexistence sync and the signup code exchange (§10)."""

from __future__ import annotations

import re
from typing import Any, Literal

from softdukan.whatsapp.client.http import GraphBase, expect_object, expect_str, expect_success, path_id
from softdukan.whatsapp.client.types import parse_page

PHONE_NUMBER_FIELDS: tuple[str, ...] = (
    "id", "display_phone_number", "verified_name", "name_status", "code_verification_status", "quality_rating",
    "platform_type", "throughput", "status", "is_on_biz_app", "whatsapp_business_manager_messaging_limit",
)
DATA_LOCALIZATION_REGIONS = ("AU", "ID", "IN", "JP", "SG", "KR", "DE", "CH", "GB", "BR", "BH", "ZA", "AE", "CA")
_PIN = re.compile(r"[0-9]{6}")
_MAX_PAGES = 100


def _check_pin(pin: object) -> str:
    if not isinstance(pin, str) or not _PIN.fullmatch(pin):
        raise ValueError("The PIN must be exactly 6 digits.")
    return pin


class PhoneNumbersAPI(GraphBase):
    async def _all_pages(self, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        after: str | None = None
        for _ in range(_MAX_PAGES):
            data, next_after = parse_page(await self.request("GET", path, params={**(params or {}), "after": after}))
            items.extend(data)
            if next_after is None or next_after == after or not data:
                break
            after = next_after
        return items

    async def add_phone_number(
        self, waba_id: str, *, cc: str, phone_number: str, verified_name: str, migrate: bool = False
    ) -> str:
        """Add a number to the WABA (``migrate=True`` when it moves from another provider); returns its id."""
        if not (isinstance(cc, str) and cc.isdigit() and 1 <= len(cc) <= 3):
            raise ValueError("cc is the country calling code in digits, e.g. '91'")
        if not (isinstance(phone_number, str) and phone_number.isdigit() and 4 <= len(phone_number) <= 14):
            raise ValueError("phone_number is the national number in digits, without the country code")
        body: dict[str, Any] = {"cc": cc, "phone_number": phone_number, "verified_name": verified_name}
        if migrate:
            body["migrate_phone_number"] = True
        answer = await self.request("POST", f"{path_id(waba_id, 'waba_id')}/phone_numbers", json=body)
        return expect_str(expect_object(answer), "id")

    async def request_code(
        self, phone_number_id: str, method: Literal["SMS", "VOICE"] = "SMS", language: str = "en_US"
    ) -> None:
        if method not in ("SMS", "VOICE"):
            raise ValueError("method is SMS or VOICE")
        params = {"code_method": method, "language": language}
        answer = await self.request("POST", f"{path_id(phone_number_id, 'phone_number_id')}/request_code",
                                    params=params)
        expect_success(answer)

    async def verify_code(self, phone_number_id: str, code: str) -> None:
        if not (isinstance(code, str) and code.isdigit() and 4 <= len(code) <= 8):
            raise ValueError("The verification code is the digits received by SMS or voice call.")
        answer = await self.request("POST", f"{path_id(phone_number_id, 'phone_number_id')}/verify_code",
                                    params={"code": code})
        expect_success(answer)

    async def register(self, phone_number_id: str, pin: str, region: str | None = None) -> None:
        """Register the number on the Cloud API. ``pin`` becomes (or must match) the two-step PIN."""
        body: dict[str, Any] = {"messaging_product": "whatsapp", "pin": _check_pin(pin)}
        if region is not None:
            if region not in DATA_LOCALIZATION_REGIONS:
                raise ValueError(f"region must be one of {', '.join(DATA_LOCALIZATION_REGIONS)}")
            body["data_localization_region"] = region
        answer = await self.request("POST", f"{path_id(phone_number_id, 'phone_number_id')}/register", json=body)
        expect_success(answer)

    async def deregister(self, phone_number_id: str) -> None:
        answer = await self.request("POST", f"{path_id(phone_number_id, 'phone_number_id')}/deregister")
        expect_success(answer)

    async def set_two_step_pin(self, phone_number_id: str, pin: str) -> None:
        answer = await self.request("POST", path_id(phone_number_id, "phone_number_id"), json={"pin": _check_pin(pin)})
        expect_success(answer)

    async def set_display_name(self, phone_number_id: str, name: str) -> None:
        """Request a new display name (reviewed; ``name_status``). The number must then register again."""
        if not isinstance(name, str) or not name.strip():
            raise ValueError("The display name cannot be empty.")
        body = {"new_display_name": name, "messaging_product": "whatsapp"}
        expect_success(await self.request("POST", path_id(phone_number_id, "phone_number_id"), json=body))

    async def get_phone_number(self, phone_number_id: str, fields: tuple[str, ...] | None = None) -> dict[str, Any]:
        params = {"fields": list(fields or PHONE_NUMBER_FIELDS)}
        answer = await self.request("GET", path_id(phone_number_id, "phone_number_id"), params=params)
        return expect_object(answer)

    async def list_phone_numbers(self, waba_id: str, fields: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        params = {"fields": list(fields or PHONE_NUMBER_FIELDS)}
        return await self._all_pages(f"{path_id(waba_id, 'waba_id')}/phone_numbers", params)

    async def subscribe_app(
        self, waba_id: str, *, override_callback_uri: str | None = None, verify_token: str | None = None
    ) -> None:
        """Subscribe this app to the WABA's webhooks, optionally at a per-WABA callback URL."""
        if (override_callback_uri is None) != (verify_token is None):
            raise ValueError("override_callback_uri and verify_token go together")
        body: dict[str, Any] = {}
        if override_callback_uri is not None:
            body = {"override_callback_uri": override_callback_uri, "verify_token": verify_token}
        answer = await self.request("POST", f"{path_id(waba_id, 'waba_id')}/subscribed_apps", json=body or None)
        expect_success(answer)

    async def list_subscribed_apps(self, waba_id: str) -> list[dict[str, Any]]:
        return await self._all_pages(f"{path_id(waba_id, 'waba_id')}/subscribed_apps")

    async def request_sync(
        self, phone_number_id: str, sync_type: Literal["history", "smb_app_state_sync"] = "history"
    ) -> str:
        """Coexistence: ask for chat history or contacts, once each within 24 h of onboarding; returns request_id."""
        if sync_type not in ("history", "smb_app_state_sync"):
            raise ValueError("sync_type is history or smb_app_state_sync")
        body = {"messaging_product": "whatsapp", "sync_type": sync_type}
        answer = await self.request("POST", f"{path_id(phone_number_id, 'phone_number_id')}/smb_app_data", json=body)
        return expect_str(expect_object(answer), "request_id")

    async def exchange_code(self, client_id: str, client_secret: str, code: str) -> str:
        """Embedded Signup: trade the 30-second code for a business token (no Bearer header)."""
        params = {"client_id": client_id, "client_secret": client_secret, "code": code}
        answer = await self.request("GET", "oauth/access_token", params=params, auth=False)
        return expect_str(expect_object(answer), "access_token")
