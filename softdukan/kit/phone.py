"""Phone numbers: parsed with `phonenumbers`, stored as E.164 digits without '+'."""

from __future__ import annotations

import phonenumbers

from softdukan.platform.errors import Invalid


def normalize(raw: str, *, region: str = "IN", field: str = "mobile") -> str:
    try:
        number = phonenumbers.parse(raw.strip(), region)
    except phonenumbers.NumberParseException as exc:
        raise Invalid("invalid_phone_number", f"'{raw}' is not a phone number.", {field: str(exc)}) from None
    if not phonenumbers.is_valid_number(number):
        raise Invalid("invalid_phone_number", f"'{raw}' is not a valid phone number.",
                      {field: "Not a valid number for its country."})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164).lstrip("+")
