"""Interactive message checks: reply buttons, lists, products, flows, CTA URL, order_details, order_status
(reference §3.4–§3.10)."""

from __future__ import annotations

import re
import time
import unicodedata
from typing import TYPE_CHECKING, Any

from softdukan.sandbox.graph.errors import invalid, missing

if TYPE_CHECKING:
    from softdukan.sandbox.graph.messages.validate import Outbound

KNOWN = (
    "button",
    "list",
    "product",
    "product_list",
    "catalog_message",
    "flow",
    "cta_url",
    "location_request_message",
    "order_details",
    "order_status",
    "voice_call",
    "call_permission_request",
    "request_contact_info",
    "carousel",
)
REFERENCE_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,35}$")
GATEWAYS = ("billdesk", "razorpay", "payu", "zaakpay")
ORDER_STATUSES = ("processing", "partially_shipped", "shipped", "completed", "canceled")


def _v():  # type: ignore[no-untyped-def]
    from softdukan.sandbox.graph.messages import validate

    return validate


def check_interactive(out: Outbound) -> None:
    content = out.content
    kind = content.get("type")
    if not isinstance(kind, str):
        raise missing("interactive.type")
    kind = kind.lower()
    content["type"] = kind
    if kind not in KNOWN:
        raise invalid(f"Param interactive.type must be one of {{{', '.join(KNOWN)}}}.")
    action = content.get("action")
    if kind not in ("location_request_message",) and not isinstance(action, dict):
        raise missing("interactive.action")
    _footer(content, 60)
    {
        "button": _buttons,
        "list": _list,
        "product": _product,
        "product_list": _product_list,
        "catalog_message": _catalog,
        "flow": _flow,
        "cta_url": _cta_url,
        "order_details": _order_details,
        "order_status": _order_status,
    }.get(kind, _body_optional)(out, content, action or {})


def _footer(content: dict[str, Any], limit: int) -> None:
    _v().text_of(content.get("footer"), "text", where="interactive.footer", limit=limit)


def _body(content: dict[str, Any], limit: int, *, required: bool = True) -> None:
    body = content.get("body")
    if body is None and not required:
        return
    _v().text_of(body, "text", where="interactive.body", limit=limit, required=True)


def _body_optional(_out: Outbound, content: dict[str, Any], _action: dict[str, Any]) -> None:
    _body(content, 1024, required=False)


def _header(out: Outbound, content: dict[str, Any], *, media: bool, required: bool = False) -> None:
    header = content.get("header")
    if header is None:
        if required:
            raise missing("interactive.header")
        return
    if not isinstance(header, dict) or not isinstance(header.get("type"), str):
        raise missing("interactive.header.type")
    kind = header["type"].lower()
    if kind == "text":
        _v().text_of(header, "text", where="interactive.header", limit=60, required=True)
    elif media and kind in ("image", "video", "document"):
        _v().check_media_object(out, kind, header.get(kind), where=f"interactive.header.{kind}", caption_allowed=False)
    else:
        raise invalid(f"Param interactive.header.type '{kind}' is not allowed here.")


def _buttons(out: Outbound, content: dict[str, Any], action: dict[str, Any]) -> None:
    _body(content, 1024)
    _header(out, content, media=True)
    buttons = action.get("buttons")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        raise invalid("Param interactive.action.buttons must have 1 to 3 buttons.")
    ids: set[str] = set()
    for button in buttons:
        reply = button.get("reply") if isinstance(button, dict) else None
        button_id = _v().text_of(reply, "id", where="interactive.action.buttons.reply", limit=256, required=True)
        _v().text_of(reply, "title", where="interactive.action.buttons.reply", limit=20, required=True)
        if button_id in ids:
            raise invalid("Param interactive.action.buttons[].reply.id must be unique.")
        ids.add(str(button_id))


def _list(out: Outbound, content: dict[str, Any], action: dict[str, Any]) -> None:
    _body(content, 4096)
    _header(out, content, media=False)
    _v().text_of(action, "button", where="interactive.action", limit=20, required=True)
    sections = action.get("sections")
    if not isinstance(sections, list) or not 1 <= len(sections) <= 10:
        raise invalid("Param interactive.action.sections must have 1 to 10 sections.")
    rows_total, ids = 0, set()
    for section in sections:
        if not isinstance(section, dict):
            raise invalid("Param interactive.action.sections[] must be an object.")
        _v().text_of(section, "title", where="interactive.action.sections", limit=24, required=len(sections) > 1)
        rows = section.get("rows")
        if not isinstance(rows, list) or not rows:
            raise missing("interactive.action.sections.rows")
        for row in rows:
            row_id = _v().text_of(row, "id", where="interactive.action.sections.rows", limit=200, required=True)
            _v().text_of(row, "title", where="interactive.action.sections.rows", limit=24, required=True)
            _v().text_of(row, "description", where="interactive.action.sections.rows", limit=72)
            if row_id in ids:
                raise invalid("Param interactive.action.sections.rows.id must be unique.")
            ids.add(str(row_id))
        rows_total += len(rows)
    if rows_total > 10:
        raise invalid("Param interactive.action.sections must have at most 10 rows in total.")


def _product(_out: Outbound, content: dict[str, Any], action: dict[str, Any]) -> None:
    _body(content, 1024, required=False)
    _v().text_of(action, "catalog_id", where="interactive.action", limit=64, required=True)
    _v().text_of(action, "product_retailer_id", where="interactive.action", limit=200, required=True)


def _product_list(out: Outbound, content: dict[str, Any], action: dict[str, Any]) -> None:
    _header(out, content, media=False, required=True)
    _body(content, 1024)
    _v().text_of(action, "catalog_id", where="interactive.action", limit=64, required=True)
    sections = action.get("sections")
    if not isinstance(sections, list) or not 1 <= len(sections) <= 10:
        raise invalid("Param interactive.action.sections must have 1 to 10 sections.")
    total = 0
    for section in sections:
        _v().text_of(section, "title", where="interactive.action.sections", limit=24, required=True)
        items = section.get("product_items")
        if not isinstance(items, list) or not items:
            raise missing("interactive.action.sections.product_items")
        for item in items:
            _v().text_of(
                item, "product_retailer_id", where="interactive.action.sections.product_items", limit=200, required=True
            )
        total += len(items)
    if total > 30:
        raise invalid("Param interactive.action.sections must have at most 30 products in total.")


def _catalog(_out: Outbound, content: dict[str, Any], action: dict[str, Any]) -> None:
    _body(content, 1024)
    if str(action.get("name", "")).lower() != "catalog_message":
        raise invalid("Param interactive.action.name must be 'catalog_message'.")


def _has_emoji(text: str) -> bool:
    return any(unicodedata.category(ch) == "So" or ord(ch) >= 0x1F000 for ch in text)


def _flow(_out: Outbound, content: dict[str, Any], action: dict[str, Any]) -> None:
    _body(content, 1024)
    parameters = action.get("parameters")
    if not isinstance(parameters, dict):
        raise missing("interactive.action.parameters")
    cta = _v().text_of(parameters, "flow_cta", where="interactive.action.parameters", limit=20, required=True)
    if cta and _has_emoji(cta):
        raise invalid("Param interactive.action.parameters.flow_cta must not contain emoji.")
    if ("flow_id" in parameters) == ("flow_name" in parameters):
        raise invalid("Param interactive.action.parameters must have exactly one of flow_id or flow_name.")
    if str(parameters.get("mode", "published")).lower() not in ("published", "draft"):
        raise invalid("Param interactive.action.parameters.mode must be 'published' or 'draft'.")


def _cta_url(_out: Outbound, content: dict[str, Any], action: dict[str, Any]) -> None:
    _body(content, 1024)
    parameters = action.get("parameters")
    _v().text_of(parameters, "display_text", where="interactive.action.parameters", limit=20, required=True)
    url = _v().text_of(parameters, "url", where="interactive.action.parameters", limit=2000, required=True)
    if not _v().URL.match(url or ""):
        raise invalid("Param interactive.action.parameters.url must be an http(s) URL.")


def _money(obj: Any, where: str) -> int:
    if not isinstance(obj, dict):
        raise missing(where)
    value, offset = obj.get("value"), obj.get("offset")
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise invalid(f"Param {where}.value must be a non-negative integer.")
    if offset != 100:
        raise invalid(f"Param {where}.offset must be 100.")
    return value


def _order_details(out: Outbound, content: dict[str, Any], action: dict[str, Any]) -> None:
    out.needs_payments = True
    _body(content, 1024)
    _header(out, content, media=True)
    if action.get("name") != "review_and_pay":
        raise invalid("Param interactive.action.name must be 'review_and_pay'.")
    p = action.get("parameters")
    if not isinstance(p, dict):
        raise missing("interactive.action.parameters")
    where = "interactive.action.parameters"
    reference = p.get("reference_id")
    if not isinstance(reference, str) or not REFERENCE_ID.match(reference):
        raise invalid(f"Param {where}.reference_id must be 1–35 letters, digits, '_', '-' or '.'.")
    if p.get("type") not in ("digital-goods", "physical-goods"):
        raise invalid(f"Param {where}.type must be 'digital-goods' or 'physical-goods'.")
    if p.get("currency") != "INR":
        raise invalid(f"Param {where}.currency must be 'INR'.")
    settings = p.get("payment_settings")
    if isinstance(settings, list):
        for setting in settings:
            gateway = setting.get("payment_gateway") if isinstance(setting, dict) else None
            if isinstance(gateway, dict):
                if gateway.get("type") not in GATEWAYS:
                    raise invalid(f"Param {where}.payment_settings.payment_gateway.type must be one of {GATEWAYS}.")
                _v().text_of(gateway, "configuration_name", where=f"{where}.payment_gateway", limit=60, required=True)
    total = _money(p.get("total_amount"), f"{where}.total_amount")
    order = p.get("order")
    if not isinstance(order, dict):
        raise missing(f"{where}.order")
    if order.get("status") != "pending":
        raise invalid(f"Param {where}.order.status must be 'pending'.")
    items = order.get("items")
    if not isinstance(items, list) or not items:
        raise missing(f"{where}.order.items")
    computed = 0
    for item in items:
        _v().text_of(item, "name", where=f"{where}.order.items", limit=60, required=True)
        quantity = item.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise invalid(f"Param {where}.order.items.quantity must be a positive integer.")
        amount = _money(item.get("amount"), f"{where}.order.items.amount")
        if item.get("sale_amount") is not None:
            amount = _money(item["sale_amount"], f"{where}.order.items.sale_amount")
        computed += amount * quantity
    subtotal = _money(order.get("subtotal"), f"{where}.order.subtotal")
    if subtotal != computed:
        raise invalid(f"Param {where}.order.subtotal must equal the sum of item amounts × quantities.")
    tax = _money(order.get("tax"), f"{where}.order.tax")
    shipping = _money(order["shipping"], f"{where}.order.shipping") if order.get("shipping") else 0
    discount = _money(order["discount"], f"{where}.order.discount") if order.get("discount") else 0
    for key in ("tax", "shipping", "discount"):
        _v().text_of(order.get(key), "description", where=f"{where}.order.{key}", limit=60)
    if total != subtotal + tax + shipping - discount:
        raise invalid(f"Param {where}.total_amount.value must equal subtotal + tax + shipping - discount.")
    expiration = order.get("expiration")
    if expiration is not None:
        try:
            expires = int(expiration.get("timestamp"))
        except (TypeError, ValueError, AttributeError):
            raise invalid(f"Param {where}.order.expiration.timestamp must be a UNIX time.") from None
        if expires < time.time() + 300:
            raise invalid(f"Param {where}.order.expiration.timestamp must be at least 300 seconds in the future.")
        _v().text_of(expiration, "description", where=f"{where}.order.expiration", limit=120)


def _order_status(_out: Outbound, content: dict[str, Any], action: dict[str, Any]) -> None:
    _body(content, 1024)
    if action.get("name") != "review_order":
        raise invalid("Param interactive.action.name must be 'review_order'.")
    p = action.get("parameters")
    if not isinstance(p, dict):
        raise missing("interactive.action.parameters")
    reference = p.get("reference_id")
    if not isinstance(reference, str) or not REFERENCE_ID.match(reference):
        raise invalid("Param interactive.action.parameters.reference_id is not valid.")
    order = p.get("order")
    if not isinstance(order, dict) or order.get("status") not in ORDER_STATUSES:
        raise invalid(f"Param interactive.action.parameters.order.status must be one of {ORDER_STATUSES}.")
    _v().text_of(order, "description", where="interactive.action.parameters.order", limit=120)
