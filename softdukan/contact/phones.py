"""Contact numbers: parsed with `phonenumbers` in the organization's country, stored as E.164 digits without "+",
refused with the reason a business owner can act on."""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, ValidationResult

MAX_INPUT = 40  # longer input is never a phone number; phonenumbers itself stops at 250

_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "The country code is missing or unknown; write it as +<country code>.",
    NumberParseException.NOT_A_NUMBER: "This is not a phone number.",
    NumberParseException.TOO_SHORT_AFTER_IDD: "Too short after the international prefix.",
    NumberParseException.TOO_SHORT_NSN: "Too short to be a phone number.",
    NumberParseException.TOO_LONG: "Too long to be a phone number.",
}
_POSSIBLE_REASONS = {
    ValidationResult.INVALID_COUNTRY_CODE: "The country code is unknown.",
    ValidationResult.TOO_SHORT: "Too short for a number of its country.",
    ValidationResult.TOO_LONG: "Too long for a number of its country.",
    ValidationResult.INVALID_LENGTH: "Wrong length for a number of its country.",
}


class PhoneError(ValueError):
    """Why a number was refused (one sentence)."""


def normalize_phone(raw: str, region: str = "IN") -> str:
    """E.164 digits without "+" ("+91 98123 45678" → "919812345678"); PhoneError with the reason otherwise.

    A number without "+" is read in `region` (the organization's country); "00" and "+" prefixes are
    international."""
    text = (raw or "").strip()
    if not text:
        raise PhoneError("The phone number is missing.")
    if len(text) > MAX_INPUT:
        raise PhoneError("Too long to be a phone number.")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region or "IN")
    except NumberParseException as exc:
        raise PhoneError(_PARSE_REASONS.get(exc.error_type, "This is not a phone number.")) from None
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible not in (ValidationResult.IS_POSSIBLE, ValidationResult.IS_POSSIBLE_LOCAL_ONLY):
        raise PhoneError(_POSSIBLE_REASONS.get(possible, "Not a valid number for its country."))
    if not phonenumbers.is_valid_number(number):
        raise PhoneError("Not a valid number for its country (check the digits and the country code).")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164).lstrip("+")


def display_phone(digits: str) -> str:
    """"919812345678" → "+91 98123 45678" (international format); anything unparsable as "+<digits>"."""
    try:
        return phonenumbers.format_number(phonenumbers.parse("+" + digits, None),
                                          phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except NumberParseException:
        return f"+{digits}"
