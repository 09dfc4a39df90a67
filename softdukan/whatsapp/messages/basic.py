"""Text, media, location, reaction and contacts messages (reference §3.1, §3.2, §3.11)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from softdukan.whatsapp.messages.base import (
    LATITUDE_RANGE,
    LONGITUDE_RANGE,
    TEXT_BODY_MAX,
    Message,
    MessageValidationError,
    _check_media_source,
    _check_range,
    _check_text,
    _contains_emoji,
    _media_source,
    _tuple,
)


# --- 3.1 text ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TextMessage(Message):
    body: str
    preview_url: bool = False

    message_type: ClassVar[str] = "text"

    def __post_init__(self) -> None:
        _check_text("text.body", self.body, TEXT_BODY_MAX, label="Message text")

    def _content(self) -> dict[str, Any]:
        return {"body": self.body, "preview_url": self.preview_url}


# --- 3.2 media -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Media(Message):
    id: str | None = None
    link: str | None = None

    def __post_init__(self) -> None:
        _check_media_source(self.message_type, self.id, self.link)

    def _content(self) -> dict[str, Any]:
        return _media_source(self.id, self.link)


@dataclass(frozen=True, slots=True)
class _CaptionedMedia(_Media):
    caption: str | None = None

    def __post_init__(self) -> None:
        _Media.__post_init__(self)
        # The reference allows a caption on image/video/document but gives no length limit.
        _check_text(f"{self.message_type}.caption", self.caption, 10**9, label="Caption", required=False)

    def _content(self) -> dict[str, Any]:
        content = _media_source(self.id, self.link)
        if self.caption is not None:
            content["caption"] = self.caption
        return content


@dataclass(frozen=True, slots=True)
class ImageMessage(_CaptionedMedia):
    message_type: ClassVar[str] = "image"


@dataclass(frozen=True, slots=True)
class VideoMessage(_CaptionedMedia):
    message_type: ClassVar[str] = "video"


@dataclass(frozen=True, slots=True)
class DocumentMessage(_CaptionedMedia):
    filename: str | None = None

    message_type: ClassVar[str] = "document"

    def __post_init__(self) -> None:
        _CaptionedMedia.__post_init__(self)
        if self.filename is not None and (not isinstance(self.filename, str) or not self.filename.strip()):
            raise MessageValidationError("document.filename", "The file name cannot be empty.")

    def _content(self) -> dict[str, Any]:
        content = _CaptionedMedia._content(self)
        if self.filename is not None:
            content["filename"] = self.filename
        return content


@dataclass(frozen=True, slots=True)
class AudioMessage(_Media):
    """Audio has no caption; ``voice=True`` sends it as a voice note."""

    voice: bool | None = None

    message_type: ClassVar[str] = "audio"

    def _content(self) -> dict[str, Any]:
        content = _media_source(self.id, self.link)
        if self.voice is not None:
            content["voice"] = self.voice
        return content


@dataclass(frozen=True, slots=True)
class StickerMessage(_Media):
    """Stickers carry no caption."""

    message_type: ClassVar[str] = "sticker"




# --- 3.11 location, reaction, contacts ---------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LocationMessage(Message):
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None

    message_type: ClassVar[str] = "location"

    def __post_init__(self) -> None:
        _check_range("location.latitude", self.latitude, LATITUDE_RANGE, label="Latitude")
        _check_range("location.longitude", self.longitude, LONGITUDE_RANGE, label="Longitude")

    def _content(self) -> dict[str, Any]:
        out: dict[str, Any] = {"latitude": self.latitude, "longitude": self.longitude}
        if self.name is not None:
            out["name"] = self.name
        if self.address is not None:
            out["address"] = self.address
        return out


@dataclass(frozen=True, slots=True)
class ReactionMessage(Message):
    """React to a message with one emoji; ``emoji=""`` removes the reaction."""

    message_id: str
    emoji: str

    message_type: ClassVar[str] = "reaction"

    def __post_init__(self) -> None:
        if not isinstance(self.message_id, str) or not self.message_id.strip():
            raise MessageValidationError("reaction.message_id", "Say which message to react to.")
        if not isinstance(self.emoji, str):
            raise MessageValidationError("reaction.emoji", "A reaction is a single emoji.")
        if self.emoji and not _is_single_emoji(self.emoji):
            raise MessageValidationError(
                "reaction.emoji", "A reaction is a single emoji (or empty to remove your reaction)."
            )

    def _content(self) -> dict[str, Any]:
        return {"message_id": self.message_id, "emoji": self.emoji}


_EMOJI_JOINERS = {0x200D, 0xFE0F, 0xFE0E, 0x20E3}


def _is_single_emoji(value: str) -> bool:
    """One emoji grapheme: a base emoji plus modifiers/ZWJ sequences/flags, no letters or spaces."""
    if any(ch.isspace() for ch in value):
        return False
    cps = [ord(ch) for ch in value]
    # regional-indicator flag: exactly two indicators
    if all(0x1F1E6 <= cp <= 0x1F1FF for cp in cps):
        return len(cps) == 2
    bases = 0
    for i, cp in enumerate(cps):
        ch = value[i]
        if cp in _EMOJI_JOINERS or 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F:
            continue  # joiner, variation selector, keycap, skin tone, tag
        is_keycap_base = (cp in (0x23, 0x2A) or 0x30 <= cp <= 0x39) and cps[i + 1 : i + 2] in ([0xFE0F], [0x20E3])
        if not is_keycap_base and not _contains_emoji(ch):
            return False
        if i == 0 or cps[i - 1] == 0x200D:
            bases += 1
        else:
            return False
    return bases >= 1


PhoneType = Literal["CELL", "MAIN", "IPHONE", "HOME", "WORK"]
WorkHome = Literal["WORK", "HOME"]


def _check_enum(field_name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        raise MessageValidationError(field_name, f"Type must be one of {', '.join(allowed)}.")


@dataclass(frozen=True, slots=True)
class ContactName:
    formatted_name: str
    first_name: str | None = None
    last_name: str | None = None
    middle_name: str | None = None
    suffix: str | None = None
    prefix: str | None = None

    def __post_init__(self) -> None:
        _check_text("contacts.name.formatted_name", self.formatted_name, 10**9, label="Contact's full name")
        others = (self.first_name, self.last_name, self.middle_name, self.suffix, self.prefix)
        if not any(isinstance(p, str) and p.strip() for p in others):
            raise MessageValidationError(
                "contacts.name",
                "Besides the full name, give at least one other name part (first name, last name, middle name, "
                "prefix or suffix).",
            )

    def to_dict(self) -> dict[str, Any]:
        out = {"formatted_name": self.formatted_name}
        for key in ("first_name", "last_name", "middle_name", "suffix", "prefix"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


def _drop_none(**kwargs: Any) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if v is not None}


@dataclass(frozen=True, slots=True)
class ContactPhone:
    phone: str
    type: PhoneType | None = None
    wa_id: str | None = None

    def __post_init__(self) -> None:
        _check_enum("contacts.phones.type", self.type, ("CELL", "MAIN", "IPHONE", "HOME", "WORK"))

    def to_dict(self) -> dict[str, Any]:
        return _drop_none(phone=self.phone, type=self.type, wa_id=self.wa_id)


@dataclass(frozen=True, slots=True)
class ContactEmail:
    email: str
    type: WorkHome | None = None

    def __post_init__(self) -> None:
        _check_enum("contacts.emails.type", self.type, ("WORK", "HOME"))

    def to_dict(self) -> dict[str, Any]:
        return _drop_none(email=self.email, type=self.type)


@dataclass(frozen=True, slots=True)
class ContactUrl:
    url: str
    type: WorkHome | None = None

    def __post_init__(self) -> None:
        _check_enum("contacts.urls.type", self.type, ("WORK", "HOME"))

    def to_dict(self) -> dict[str, Any]:
        return _drop_none(url=self.url, type=self.type)


@dataclass(frozen=True, slots=True)
class ContactAddress:
    street: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    country_code: str | None = None
    type: WorkHome | None = None

    def __post_init__(self) -> None:
        _check_enum("contacts.addresses.type", self.type, ("WORK", "HOME"))

    def to_dict(self) -> dict[str, Any]:
        return _drop_none(
            street=self.street,
            city=self.city,
            state=self.state,
            zip=self.zip,
            country=self.country,
            country_code=self.country_code,
            type=self.type,
        )


@dataclass(frozen=True, slots=True)
class ContactOrg:
    company: str | None = None
    department: str | None = None
    title: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return _drop_none(company=self.company, department=self.department, title=self.title)


@dataclass(frozen=True, slots=True)
class Contact:
    name: ContactName
    birthday: str | None = None
    phones: Sequence[ContactPhone] = ()
    emails: Sequence[ContactEmail] = ()
    urls: Sequence[ContactUrl] = ()
    addresses: Sequence[ContactAddress] = ()
    org: ContactOrg | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, ContactName):
            raise MessageValidationError("contacts.name", "A contact needs a name.")
        if self.birthday is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", self.birthday):
            raise MessageValidationError("contacts.birthday", "Write the birthday as YYYY-MM-DD, e.g. 1990-05-14.")
        for name in ("phones", "emails", "urls", "addresses"):
            _tuple(self, name)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name.to_dict()}
        if self.birthday is not None:
            out["birthday"] = self.birthday
        for name in ("phones", "emails", "urls", "addresses"):
            items = getattr(self, name)
            if items:
                out[name] = [i.to_dict() for i in items]
        if self.org is not None:
            out["org"] = self.org.to_dict()
        return out


@dataclass(frozen=True, slots=True)
class ContactsMessage(Message):
    contacts: Sequence[Contact]

    message_type: ClassVar[str] = "contacts"

    def __post_init__(self) -> None:
        _tuple(self, "contacts")
        if not self.contacts:
            raise MessageValidationError("contacts", "Share at least one contact.")

    def _content(self) -> list[Any]:
        return [c.to_dict() for c in self.contacts]
