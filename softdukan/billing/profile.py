"""The organization's billing profile (Settings → Billing profile, /v1/billing-profile): who it is on its invoices.

Every field is checked with a message per field, all at once; the GSTIN must be valid and registered in the state
chosen, because that state is the place of supply of every invoice (../shared/reference/billing-india.md §4.1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from softdukan.auth.service import clean_email
from softdukan.auth.subject import Subject
from softdukan.billing.gstin import parse_gstin
from softdukan.billing.models import BillingProfile
from softdukan.billing.repository import BillingProfileRepository
from softdukan.billing.states import STATES, state_label
from softdukan.platform.errors import Invalid
from softdukan.platform.uow import UnitOfWork

PIN = re.compile(r"[1-9][0-9]{5}")
LIMITS = {"legal_name": 200, "address_line1": 200, "address_line2": 200, "city": 100, "email": 254}
LABELS = {"legal_name": "Legal name", "address_line1": "Address", "address_line2": "Address (line 2)", "city": "City",
          "state_code": "State", "pin_code": "PIN code", "gstin": "GSTIN", "email": "Billing e-mail"}


@dataclass(frozen=True)
class ProfileInput:
    legal_name: str
    address_line1: str
    city: str
    state_code: str
    pin_code: str
    email: str
    address_line2: str | None = None
    gstin: str | None = None


def _clean(data: ProfileInput) -> dict[str, str | None]:
    errors: list[Invalid] = []

    def text(field: str, value: str | None, *, required: bool) -> str | None:
        cleaned = " ".join((value or "").split())
        if not cleaned:
            if required:
                errors.append(Invalid("missing_field", f"{LABELS[field]} is required.",
                                      {field: f"{LABELS[field]} is required."}))
            return None
        if len(cleaned) > LIMITS[field]:
            errors.append(Invalid("too_long", f"Use at most {LIMITS[field]} characters.",
                                  {field: f"Use at most {LIMITS[field]} characters."}))
        return cleaned

    values: dict[str, str | None] = {
        "legal_name": text("legal_name", data.legal_name, required=True),
        "address_line1": text("address_line1", data.address_line1, required=True),
        "address_line2": text("address_line2", data.address_line2, required=False),
        "city": text("city", data.city, required=True)}
    state = data.state_code.strip()
    if state not in STATES:
        errors.append(Invalid("invalid_state", "Choose the state or union territory of the billing address.",
                              {"state_code": "Choose a state or union territory."}))
    values["state_code"] = state
    pin = "".join(data.pin_code.split())
    if not PIN.fullmatch(pin):
        errors.append(Invalid("invalid_pin_code", "A PIN code has six digits and doesn't start with 0.",
                              {"pin_code": "Six digits, not starting with 0."}))
    values["pin_code"] = pin
    values["gstin"] = None
    if (data.gstin or "").strip():
        try:
            gstin = parse_gstin(data.gstin or "")
        except Invalid as exc:
            errors.append(exc)
        else:
            values["gstin"] = gstin.value
            if state in STATES and gstin.state_code != state:
                message = (f"The GSTIN {gstin.value} is registered in {state_label(gstin.state_code)}, but the "
                           f"billing state chosen is {state_label(state)}. Choose the state of the GSTIN.")
                errors.append(Invalid("gstin_state_mismatch", message, {"gstin": message}))
    if len(data.email) > LIMITS["email"] * 2:
        errors.append(Invalid("invalid_email", "That e-mail address is too long.", {"email": "Too long."}))
    else:
        try:
            values["email"] = clean_email(data.email)
        except Invalid as exc:
            errors.append(exc)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        details: dict[str, str] = {}
        for error in errors:
            details.update(error.details or {})
        names = ", ".join(LABELS.get(field, field) for field in details)
        raise Invalid("invalid_billing_profile", f"Please correct these fields: {names}.", details)
    return values


class BillingProfileService:
    async def get(self, uow: UnitOfWork, subject: Subject) -> BillingProfile | None:
        subject.require("billing:read")
        return await BillingProfileRepository(uow.session).readable(subject)

    async def save(self, uow: UnitOfWork, subject: Subject, data: ProfileInput) -> BillingProfile:
        """Creates or replaces the profile. Invoices already issued keep the details they were issued with."""
        subject.require("billing:write")
        values = _clean(data)
        repo = BillingProfileRepository(uow.session)
        now = uow.clock.now()
        # two first saves at once: one inserts, the other updates the row it then finds
        await repo.insert_if_missing({**values, "organization_id": subject.organization_id, "created_at": now,
                                      "updated_at": now})
        profile = await repo.for_update(subject)
        assert profile is not None
        for field, value in values.items():
            setattr(profile, field, value)
        profile.updated_at = now
        await uow.flush()
        if profile.gstin:
            from softdukan.subscription.service import claim_for_trial

            await claim_for_trial(uow, subject.organization_id, "gstin", profile.gstin)  # one trial per business
        return profile


billing_profile_service = BillingProfileService()
