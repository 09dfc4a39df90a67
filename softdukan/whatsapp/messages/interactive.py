"""Interactive messages: reply buttons, list, cta_url, location request, product, product list, catalog and
flow (reference §3.4–§3.10)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from softdukan.whatsapp.messages.base import (
    CATALOG_BODY_MAX,
    FLOW_CTA_MAX,
    FOOTER_MAX,
    HEADER_TEXT_MAX,
    LIST_BODY_MAX,
    LIST_BUTTON_MAX,
    LIST_ROW_DESCRIPTION_MAX,
    LIST_ROW_ID_MAX,
    LIST_ROW_TITLE_MAX,
    LIST_ROWS_TOTAL_MAX,
    LIST_SECTION_TITLE_MAX,
    LIST_SECTIONS_MAX,
    PRODUCT_LIST_PRODUCTS_MAX,
    PRODUCT_LIST_SECTION_TITLE_MAX,
    PRODUCT_LIST_SECTIONS_MAX,
    REPLY_BUTTON_ID_MAX,
    REPLY_BUTTON_TITLE_MAX,
    REPLY_BUTTONS_BODY_MAX,
    REPLY_BUTTONS_MAX,
    REPLY_BUTTONS_MIN,
    Message,
    MessageValidationError,
    _check_count,
    _check_media_source,
    _check_text,
    _contains_emoji,
    _media_source,
    _tuple,
)


# --- interactive common ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TextHeader:
    text: str

    def __post_init__(self) -> None:
        _check_text("interactive.header.text", self.text, HEADER_TEXT_MAX, label="Header text")

    def to_dict(self) -> dict[str, Any]:
        return {"type": "text", "text": self.text}


@dataclass(frozen=True, slots=True)
class MediaHeader:
    """Image/video/document header of a reply-buttons message. Header media carries no caption."""

    kind: Literal["image", "video", "document"]
    id: str | None = None
    link: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("image", "video", "document"):
            raise MessageValidationError(
                "interactive.header.type", "A header can be text, an image, video or document."
            )
        _check_media_source(f"interactive.header.{self.kind}", self.id, self.link)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.kind, self.kind: _media_source(self.id, self.link)}


class _Interactive(Message):
    message_type: ClassVar[str] = "interactive"
    interactive_type: ClassVar[str]

    def _parts(self) -> dict[str, Any]:
        raise NotImplementedError

    def _content(self) -> dict[str, Any]:
        return {"type": self.interactive_type, **self._parts()}


def _common_parts(header: TextHeader | MediaHeader | None, body: str | None, footer: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if header is not None:
        out["header"] = header.to_dict()
    if body is not None:
        out["body"] = {"text": body}
    if footer is not None:
        out["footer"] = {"text": footer}
    return out


def _check_footer(footer: str | None) -> None:
    _check_text("interactive.footer.text", footer, FOOTER_MAX, label="Footer", required=False)


def _check_text_header(header: object, *, required: bool = False) -> None:
    if header is None:
        if required:
            raise MessageValidationError("interactive.header", "This message needs a text header.")
        return
    if not isinstance(header, TextHeader):
        raise MessageValidationError("interactive.header", "This message can only have a text header.")


# --- 3.4 reply buttons --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ReplyButton:
    id: str
    title: str

    def __post_init__(self) -> None:
        _check_text("interactive.action.buttons.id", self.id, REPLY_BUTTON_ID_MAX, label="Button ID")
        _check_text("interactive.action.buttons.title", self.title, REPLY_BUTTON_TITLE_MAX, label="Button title")

    def to_dict(self) -> dict[str, Any]:
        return {"type": "reply", "reply": {"id": self.id, "title": self.title}}


@dataclass(frozen=True, slots=True)
class ReplyButtonsMessage(_Interactive):
    body: str
    buttons: Sequence[ReplyButton]
    header: TextHeader | MediaHeader | None = None
    footer: str | None = None

    interactive_type: ClassVar[str] = "button"

    def __post_init__(self) -> None:
        _check_text("interactive.body.text", self.body, REPLY_BUTTONS_BODY_MAX, label="Message text")
        _check_footer(self.footer)
        if self.header is not None and not isinstance(self.header, TextHeader | MediaHeader):
            raise MessageValidationError("interactive.header", "A header is text, an image, video or document.")
        _tuple(self, "buttons")
        _check_count(
            "interactive.action.buttons",
            len(self.buttons),
            minimum=REPLY_BUTTONS_MIN,
            maximum=REPLY_BUTTONS_MAX,
            label="buttons",
        )
        ids = [b.id for b in self.buttons]
        if len(set(ids)) != len(ids):
            raise MessageValidationError("interactive.action.buttons.id", "Each button needs a different ID.")

    def _parts(self) -> dict[str, Any]:
        return {
            **_common_parts(self.header, self.body, self.footer),
            "action": {"buttons": [b.to_dict() for b in self.buttons]},
        }


# --- 3.5 list ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ListRow:
    id: str
    title: str
    description: str | None = None

    def __post_init__(self) -> None:
        _check_text("interactive.action.sections.rows.id", self.id, LIST_ROW_ID_MAX, label="Row ID")
        _check_text("interactive.action.sections.rows.title", self.title, LIST_ROW_TITLE_MAX, label="Row title")
        _check_text(
            "interactive.action.sections.rows.description",
            self.description,
            LIST_ROW_DESCRIPTION_MAX,
            label="Row description",
            required=False,
        )

    def to_dict(self) -> dict[str, Any]:
        out = {"id": self.id, "title": self.title}
        if self.description is not None:
            out["description"] = self.description
        return out


@dataclass(frozen=True, slots=True)
class ListSection:
    title: str | None
    rows: Sequence[ListRow]

    def __post_init__(self) -> None:
        _check_text(
            "interactive.action.sections.title",
            self.title,
            LIST_SECTION_TITLE_MAX,
            label="Section title",
            required=False,
        )
        _tuple(self, "rows")
        _check_count(
            "interactive.action.sections.rows", len(self.rows), minimum=1, maximum=LIST_ROWS_TOTAL_MAX, label="rows"
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.title is not None:
            out["title"] = self.title
        out["rows"] = [r.to_dict() for r in self.rows]
        return out


@dataclass(frozen=True, slots=True)
class ListMessage(_Interactive):
    body: str
    button: str
    sections: Sequence[ListSection]
    header: TextHeader | None = None
    footer: str | None = None

    interactive_type: ClassVar[str] = "list"

    def __post_init__(self) -> None:
        _check_text("interactive.body.text", self.body, LIST_BODY_MAX, label="Message text")
        _check_text("interactive.action.button", self.button, LIST_BUTTON_MAX, label="Menu button text")
        _check_footer(self.footer)
        _check_text_header(self.header)
        _tuple(self, "sections")
        _check_count(
            "interactive.action.sections", len(self.sections), minimum=1, maximum=LIST_SECTIONS_MAX, label="sections"
        )
        rows = [r for s in self.sections for r in s.rows]
        _check_count(
            "interactive.action.sections.rows",
            len(rows),
            minimum=1,
            maximum=LIST_ROWS_TOTAL_MAX,
            label="rows in total across all sections",
        )
        ids = [r.id for r in rows]
        if len(set(ids)) != len(ids):
            raise MessageValidationError("interactive.action.sections.rows.id", "Each row needs a different ID.")

    def _parts(self) -> dict[str, Any]:
        return {
            **_common_parts(self.header, self.body, self.footer),
            "action": {"button": self.button, "sections": [s.to_dict() for s in self.sections]},
        }




# --- 3.10 cta_url, location request ------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CtaUrlMessage(_Interactive):
    body: str
    display_text: str
    url: str
    header: TextHeader | MediaHeader | None = None
    footer: str | None = None

    interactive_type: ClassVar[str] = "cta_url"

    def __post_init__(self) -> None:
        # The reference gives only the shape of cta_url; no length limits are enforced beyond
        # the generic header/footer ones.
        _check_text("interactive.body.text", self.body, 10**9, label="Message text")
        _check_text("interactive.action.parameters.display_text", self.display_text, 10**9, label="Button text")
        if not isinstance(self.url, str) or not re.match(r"^https?://\S+$", self.url):
            raise MessageValidationError(
                "interactive.action.parameters.url", "The link must be an http:// or https:// URL."
            )
        _check_footer(self.footer)

    def _parts(self) -> dict[str, Any]:
        return {
            **_common_parts(self.header, self.body, self.footer),
            "action": {"name": "cta_url", "parameters": {"display_text": self.display_text, "url": self.url}},
        }


@dataclass(frozen=True, slots=True)
class LocationRequestMessage(_Interactive):
    body: str

    interactive_type: ClassVar[str] = "location_request_message"

    def __post_init__(self) -> None:
        _check_text("interactive.body.text", self.body, 10**9, label="Message text")

    def _parts(self) -> dict[str, Any]:
        return {"body": {"text": self.body}, "action": {"name": "send_location"}}


# --- 3.6 product, product list, catalog -----------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ProductMessage(_Interactive):
    catalog_id: str
    product_retailer_id: str
    body: str | None = None
    footer: str | None = None

    interactive_type: ClassVar[str] = "product"

    def __post_init__(self) -> None:
        _check_text("interactive.action.catalog_id", self.catalog_id, 10**9, label="Catalog ID")
        _check_text("interactive.action.product_retailer_id", self.product_retailer_id, 10**9, label="Product SKU")
        _check_text("interactive.body.text", self.body, 10**9, label="Message text", required=False)
        _check_footer(self.footer)

    def _parts(self) -> dict[str, Any]:
        return {
            **_common_parts(None, self.body, self.footer),
            "action": {"catalog_id": self.catalog_id, "product_retailer_id": self.product_retailer_id},
        }


@dataclass(frozen=True, slots=True)
class ProductSection:
    title: str
    product_retailer_ids: Sequence[str]

    def __post_init__(self) -> None:
        _check_text(
            "interactive.action.sections.title", self.title, PRODUCT_LIST_SECTION_TITLE_MAX, label="Section title"
        )
        _tuple(self, "product_retailer_ids")
        if not self.product_retailer_ids:
            raise MessageValidationError("interactive.action.sections.product_items", "A section needs a product.")

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "product_items": [{"product_retailer_id": p} for p in self.product_retailer_ids],
        }


@dataclass(frozen=True, slots=True)
class ProductListMessage(_Interactive):
    header: TextHeader
    body: str
    catalog_id: str
    sections: Sequence[ProductSection]
    footer: str | None = None

    interactive_type: ClassVar[str] = "product_list"

    def __post_init__(self) -> None:
        _check_text_header(self.header, required=True)
        _check_text("interactive.body.text", self.body, CATALOG_BODY_MAX, label="Message text")
        _check_footer(self.footer)
        _check_text("interactive.action.catalog_id", self.catalog_id, 10**9, label="Catalog ID")
        _tuple(self, "sections")
        _check_count(
            "interactive.action.sections",
            len(self.sections),
            minimum=1,
            maximum=PRODUCT_LIST_SECTIONS_MAX,
            label="sections",
        )
        total = sum(len(s.product_retailer_ids) for s in self.sections)
        _check_count(
            "interactive.action.sections.product_items",
            total,
            minimum=1,
            maximum=PRODUCT_LIST_PRODUCTS_MAX,
            label="products in total",
        )

    def _parts(self) -> dict[str, Any]:
        return {
            **_common_parts(self.header, self.body, self.footer),
            "action": {"catalog_id": self.catalog_id, "sections": [s.to_dict() for s in self.sections]},
        }


@dataclass(frozen=True, slots=True)
class CatalogMessage(_Interactive):
    body: str
    thumbnail_product_retailer_id: str | None = None
    footer: str | None = None

    interactive_type: ClassVar[str] = "catalog_message"

    def __post_init__(self) -> None:
        _check_text("interactive.body.text", self.body, CATALOG_BODY_MAX, label="Message text")
        _check_footer(self.footer)

    def _parts(self) -> dict[str, Any]:
        action: dict[str, Any] = {"name": "catalog_message"}
        if self.thumbnail_product_retailer_id is not None:
            action["parameters"] = {"thumbnail_product_retailer_id": self.thumbnail_product_retailer_id}
        return {**_common_parts(None, self.body, self.footer), "action": action}


# --- 3.9 flow ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FlowMessage(_Interactive):
    body: str
    flow_token: str
    flow_cta: str
    flow_id: str | None = None
    flow_name: str | None = None
    mode: Literal["published", "draft"] = "published"
    flow_action: Literal["navigate", "data_exchange"] = "navigate"
    screen: str | None = None
    data: dict[str, Any] | None = None
    header: TextHeader | None = None
    footer: str | None = None
    flow_message_version: str = "3"

    interactive_type: ClassVar[str] = "flow"

    def __post_init__(self) -> None:
        _check_text("interactive.body.text", self.body, 10**9, label="Message text")
        _check_text("interactive.action.parameters.flow_cta", self.flow_cta, FLOW_CTA_MAX, label="Flow button text")
        if _contains_emoji(self.flow_cta):
            raise MessageValidationError(
                "interactive.action.parameters.flow_cta", "Flow button text cannot contain emoji."
            )
        if (self.flow_id is None) == (self.flow_name is None):
            raise MessageValidationError(
                "interactive.action.parameters.flow_id", "Give exactly one of the flow ID or the flow name."
            )
        if self.mode not in ("published", "draft"):
            raise MessageValidationError("interactive.action.parameters.mode", "Mode must be published or draft.")
        if self.flow_action not in ("navigate", "data_exchange"):
            raise MessageValidationError(
                "interactive.action.parameters.flow_action", "Flow action must be navigate or data_exchange."
            )
        _check_text("interactive.action.parameters.flow_token", self.flow_token, 10**9, label="Flow token")
        _check_text_header(self.header)
        _check_footer(self.footer)

    def _parts(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "mode": self.mode,
            "flow_message_version": self.flow_message_version,
            "flow_token": self.flow_token,
        }
        if self.flow_id is not None:
            params["flow_id"] = self.flow_id
        else:
            params["flow_name"] = self.flow_name
        params["flow_cta"] = self.flow_cta
        params["flow_action"] = self.flow_action
        if self.screen is not None or self.data is not None:
            fap: dict[str, Any] = {}
            if self.screen is not None:
                fap["screen"] = self.screen
            if self.data is not None:
                fap["data"] = dict(self.data)
            params["flow_action_payload"] = fap
        return {
            **_common_parts(self.header, self.body, self.footer),
            "action": {"name": "flow", "parameters": params},
        }
