"""Limits, the validation error and helpers shared by every message builder, and the Message envelope."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any, ClassVar

# --- limits (reference §1.1, §3, §9.2) -------------------------------------------------
BIZ_OPAQUE_CALLBACK_DATA_MAX = 512
TEXT_BODY_MAX = 4096
E164_DIGITS_MAX = 15

HEADER_TEXT_MAX = 60
FOOTER_MAX = 60

REPLY_BUTTONS_MIN = 1
REPLY_BUTTONS_MAX = 3
REPLY_BUTTON_ID_MAX = 256
REPLY_BUTTON_TITLE_MAX = 20
REPLY_BUTTONS_BODY_MAX = 1024

LIST_BUTTON_MAX = 20
LIST_BODY_MAX = 4096
LIST_SECTIONS_MAX = 10
LIST_SECTION_TITLE_MAX = 24
LIST_ROWS_TOTAL_MAX = 10
LIST_ROW_ID_MAX = 200
LIST_ROW_TITLE_MAX = 24
LIST_ROW_DESCRIPTION_MAX = 72

PRODUCT_LIST_PRODUCTS_MAX = 30
PRODUCT_LIST_SECTIONS_MAX = 10
PRODUCT_LIST_SECTION_TITLE_MAX = 24
CATALOG_BODY_MAX = 1024

FLOW_CTA_MAX = 20

TEMPLATE_NAME_MAX = 512
TEMPLATE_BUTTONS_MAX = 10
TEMPLATE_COUPON_CODE_MAX = 15

LATITUDE_RANGE = (-90.0, 90.0)
LONGITUDE_RANGE = (-180.0, 180.0)


class MessageValidationError(ValueError):
    """A message breaks a WhatsApp limit; raised locally, before anything is sent."""

    def __init__(self, field: str, limit_description: str) -> None:
        self.field = field
        self.limit_description = limit_description
        super().__init__(f"{field}: {limit_description}")


# --- validation helpers ------------------------------------------------------------------
def _check_text(field_name: str, value: object, max_len: int, *, label: str, required: bool = True) -> None:
    if value is None:
        if required:
            raise MessageValidationError(field_name, f"{label} is required.")
        return
    if not isinstance(value, str):
        raise MessageValidationError(field_name, f"{label} must be text.")
    if required and not value.strip():
        raise MessageValidationError(field_name, f"{label} cannot be empty.")
    if len(value) > max_len:
        raise MessageValidationError(
            field_name,
            f"{label} can be at most {max_len} characters long; yours is {len(value)} characters.",
        )


def _check_count(field_name: str, count: int, *, minimum: int, maximum: int, label: str) -> None:
    if count < minimum:
        raise MessageValidationError(field_name, f"You need at least {minimum} {label}; you have {count}.")
    if count > maximum:
        raise MessageValidationError(field_name, f"WhatsApp allows at most {maximum} {label}; you have {count}.")


def _check_range(field_name: str, value: object, bounds: tuple[float, float], *, label: str) -> None:
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MessageValidationError(field_name, f"{label} must be a number between {low:g} and {high:g}.")
    if not low <= value <= high:
        raise MessageValidationError(field_name, f"{label} must be between {low:g} and {high:g}; you gave {value}.")


def _check_media_source(field_prefix: str, id_: str | None, link: str | None) -> None:
    if (id_ is None) == (link is None):
        raise MessageValidationError(
            field_prefix, "Give exactly one of an uploaded media ID or a link to the file, not both or neither."
        )
    if id_ is not None and not (isinstance(id_, str) and id_.strip()):
        raise MessageValidationError(f"{field_prefix}.id", "The media ID cannot be empty.")
    if link is not None and not (isinstance(link, str) and re.match(r"^https?://\S+$", link)):
        raise MessageValidationError(f"{field_prefix}.link", "The media link must be an http:// or https:// URL.")


def _media_source(id_: str | None, link: str | None) -> dict[str, Any]:
    return {"id": id_} if id_ is not None else {"link": link}


def _contains_emoji(value: str) -> bool:
    for ch in value:
        cp = ord(ch)
        if unicodedata.category(ch) == "So" or 0x1F000 <= cp <= 0x1FAFF or cp in (0x200D, 0xFE0F):
            return True
    return False


def _tuple(obj: Any, name: str) -> None:
    """Freeze a sequence field into a tuple (dataclasses stay hashable and immutable)."""
    value = getattr(obj, name)
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise MessageValidationError(name, f"{name} must be a list.")
    object.__setattr__(obj, name, tuple(value))


def _check_to(to: object) -> None:
    if not isinstance(to, str) or not to.isascii() or not to.isdigit():
        raise MessageValidationError(
            "to",
            "The recipient's number must be digits only, in international format without '+', "
            "spaces or dashes (for example 919812345678).",
        )
    if len(to) > E164_DIGITS_MAX:
        raise MessageValidationError("to", f"A phone number has at most {E164_DIGITS_MAX} digits; yours has {len(to)}.")


# --- base ----------------------------------------------------------------------------------
class Message:
    """Base of every builder. Subclasses set ``message_type`` and implement ``_content``."""

    message_type: ClassVar[str]

    def _content(self) -> dict[str, Any] | list[Any]:
        raise NotImplementedError

    def to_payload(
        self,
        to: str,
        *,
        context_message_id: str | None = None,
        biz_opaque_callback_data: str | None = None,
    ) -> dict[str, Any]:
        _check_to(to)
        payload: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": self.message_type,
        }
        if context_message_id is not None:
            if not isinstance(context_message_id, str) or not context_message_id.strip():
                raise MessageValidationError("context.message_id", "The message being replied to needs an ID.")
            payload["context"] = {"message_id": context_message_id}
        if biz_opaque_callback_data is not None:
            _check_text(
                "biz_opaque_callback_data",
                biz_opaque_callback_data,
                BIZ_OPAQUE_CALLBACK_DATA_MAX,
                label="Tracking data",
                required=False,
            )
            payload["biz_opaque_callback_data"] = biz_opaque_callback_data
        payload[self.message_type] = self._content()
        return payload
