"""What the phone shows: each sandbox thread message (reference §3 outbound, §5.5 inbound) as a chat bubble.

`bubbles(views, ...)` turns `softdukan.sandbox.service.customers.message_view` dicts into display dicts the
templates render; nothing here touches the database. Business messages appear once sent (a real phone never
sees an accepted or failed one); the customer's own messages carry their ticks (received → ✓✓, read → blue).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

VISIBLE_OUT = ("sent", "delivered", "read")
MEDIA_KINDS = ("image", "video", "audio", "document", "sticker")
VARIABLE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
TZ = ZoneInfo("Asia/Kolkata")

MediaUrl = Callable[[str], str]  # media id → URL the page can load
Templates = dict[tuple[str, str], list[Any]]  # (name, language) → the template's components


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def money(amount: Any, currency: str = "INR") -> str:
    """`{"value": 21000, "offset": 100}` → "₹210.00"."""
    data = _dict(amount)
    try:
        value = int(data.get("value", 0)) / int(data.get("offset", 100) or 100)
    except (TypeError, ValueError):
        return "—"
    symbol = "₹" if currency.upper() == "INR" else f"{currency} "
    return f"{symbol}{value:,.2f}"


def media_of(kind: str, content: dict[str, Any], media_url: MediaUrl) -> dict[str, Any]:
    """Media by id (served from the sandbox) or by link (loaded from wherever it points)."""
    url = media_url(_str(content["id"])) if content.get("id") else _str(content.get("link"))
    return {
        "media_kind": kind,
        "url": url,
        "caption": _str(content.get("caption")),
        "filename": _str(content.get("filename")) or f"{kind} file",
        "mime_type": _str(content.get("mime_type")),
    }


def _header(header: Any, media_url: MediaUrl) -> dict[str, Any] | None:
    data = _dict(header)
    kind = _str(data.get("type")).lower()
    if kind == "text":
        return {"text": _str(data.get("text"))}
    if kind in MEDIA_KINDS:
        return media_of(kind, _dict(data.get(kind)), media_url)
    return None


def _param_value(param: Any) -> str:
    data = _dict(param)
    kind = _str(data.get("type")).lower()
    if kind in ("currency", "date_time"):
        return _str(_dict(data.get(kind)).get("fallback_value"))
    if kind == "text":
        return _str(data.get("text"))
    return _str(data.get(kind) if not isinstance(data.get(kind), dict) else "")


def fill(text: str, params: list[Any]) -> str:
    """Template text with its `{{1}}` / `{{name}}` variables replaced by the sent parameters."""
    named = {_str(_dict(p).get("parameter_name")): _param_value(p) for p in params if _dict(p).get("parameter_name")}
    positional = [_param_value(p) for p in params]

    def value(match: re.Match[str]) -> str:
        key = match.group(1)
        if key in named:
            return named[key]
        if key.isdigit() and 0 < int(key) <= len(positional):
            return positional[int(key) - 1]
        return match.group(0)

    return VARIABLE.sub(value, text)


def _sent_component(sent: list[Any], kind: str, index: int | None = None) -> dict[str, Any]:
    for component in sent:
        data = _dict(component)
        if _str(data.get("type")).lower() != kind:
            continue
        if index is None or _str(data.get("index")) == str(index):
            return data
    return {}


def _template_component(components: list[Any], kind: str) -> dict[str, Any]:
    for component in components:
        if _str(_dict(component).get("type")).upper() == kind:
            return _dict(component)
    return {}


def quick_reply_payload(sent: list[Any], index: int, title: str) -> str:
    """The payload the business attached to quick-reply button `index`, else the button's text (as Meta does)."""
    params = _list(_sent_component(sent, "button", index).get("parameters"))
    for param in params:
        if _str(_dict(param).get("type")).lower() == "payload" and _dict(param).get("payload") is not None:
            return _str(_dict(param).get("payload"))
    return title


def template_bubble(content: dict[str, Any], templates: Templates, media_url: MediaUrl) -> dict[str, Any]:
    name = _str(content.get("name"))
    language = _str(_dict(content.get("language")).get("code"))
    components = templates.get((name, language))
    sent = _list(content.get("components"))
    if components is None:  # deleted or unknown here: show what we know
        return {"kind": "template", "header": None, "body": f"Template “{name}” ({language})", "footer": "",
                "buttons": []}
    header: dict[str, Any] | None = None
    spec = _template_component(components, "HEADER")
    header_params = _list(_sent_component(sent, "header").get("parameters"))
    fmt = _str(spec.get("format")).upper()
    if fmt == "TEXT":
        header = {"text": fill(_str(spec.get("text")), header_params)}
    elif fmt and header_params:
        param = _dict(header_params[0])
        kind = _str(param.get("type")).lower()
        if kind == "location":
            header = {"location": location_of(_dict(param.get("location")))}
        elif kind in MEDIA_KINDS:
            header = media_of(kind, _dict(param.get(kind)), media_url)
    body = fill(_str(_template_component(components, "BODY").get("text")),
                _list(_sent_component(sent, "body").get("parameters")))
    buttons = []
    for index, button in enumerate(_list(_template_component(components, "BUTTONS").get("buttons"))):
        data = _dict(button)
        kind = _str(data.get("type")).upper()
        title = _str(data.get("text"))
        params = _list(_sent_component(sent, "button", index).get("parameters"))
        item: dict[str, Any] = {"index": index, "type": kind, "title": title, "url": "", "tappable": False}
        if kind == "QUICK_REPLY":
            item["tappable"] = True
        elif kind == "URL":
            suffix = _param_value(params[0]) if params else ""
            item["url"] = VARIABLE.sub(suffix, _str(data.get("url")))
        elif kind == "PHONE_NUMBER":
            item["url"] = "tel:+" + _str(data.get("phone_number")).lstrip("+")
        elif kind == "COPY_CODE" and params:
            item["title"] = f"{title or 'Copy code'}: {_str(_dict(params[0]).get('coupon_code'))}"
        buttons.append(item)
    footer = _str(_template_component(components, "FOOTER").get("text"))
    return {"kind": "template", "header": header, "body": body, "footer": footer, "buttons": buttons}


def location_of(data: dict[str, Any]) -> dict[str, Any]:
    lat, lng = data.get("latitude"), data.get("longitude")
    return {
        "latitude": lat,
        "longitude": lng,
        "name": _str(data.get("name")),
        "address": _str(data.get("address")),
        "url": f"https://www.openstreetmap.org/?mlat={lat}&mlon={lng}#map=16/{lat}/{lng}",
    }


def contacts_of(cards: Any) -> list[dict[str, Any]]:
    found = []
    for card in _list(cards):
        data = _dict(card)
        phones = [_str(_dict(p).get("phone")) for p in _list(data.get("phones"))]
        found.append({"name": _str(_dict(data.get("name")).get("formatted_name")) or "Contact",
                      "phones": [p for p in phones if p]})
    return found


def order_details_of(interactive: dict[str, Any]) -> dict[str, Any]:
    params = _dict(_dict(interactive.get("action")).get("parameters"))
    order = _dict(params.get("order"))
    currency = _str(params.get("currency")) or "INR"
    items = [{"name": _str(_dict(i).get("name")), "quantity": _dict(i).get("quantity", 1),
              "amount": money(_dict(i).get("sale_amount") or _dict(i).get("amount"), currency)}
             for i in _list(order.get("items"))]
    lines = [(label, money(order[key], currency)) for key, label in
             (("subtotal", "Subtotal"), ("tax", "Tax"), ("shipping", "Shipping"), ("discount", "Discount"))
             if key in order]
    return {"reference_id": _str(params.get("reference_id")), "items": items, "lines": lines,
            "total": money(params.get("total_amount"), currency), "status": _str(order.get("status"))}


def interactive_bubble(interactive: dict[str, Any], media_url: MediaUrl) -> dict[str, Any]:
    kind = _str(interactive.get("type")).lower()
    action = _dict(interactive.get("action"))
    base: dict[str, Any] = {
        "header": _header(interactive.get("header"), media_url),
        "body": _str(_dict(interactive.get("body")).get("text")),
        "footer": _str(_dict(interactive.get("footer")).get("text")),
    }
    params = _dict(action.get("parameters"))
    if kind == "button":
        buttons = [{"index": i, "title": _str(_dict(_dict(b).get("reply")).get("title"))}
                   for i, b in enumerate(_list(action.get("buttons")))]
        return {**base, "kind": "buttons", "buttons": buttons}
    if kind == "list":
        sections = [{"title": _str(_dict(s).get("title")),
                     "rows": [{"id": _str(_dict(r).get("id")), "title": _str(_dict(r).get("title")),
                               "description": _str(_dict(r).get("description"))} for r in _list(_dict(s).get("rows"))]}
                    for s in _list(action.get("sections"))]
        return {**base, "kind": "list", "button": _str(action.get("button")) or "Menu", "sections": sections}
    if kind == "cta_url":
        return {**base, "kind": "cta_url", "display_text": _str(params.get("display_text")) or "Open",
                "url": _str(params.get("url"))}
    if kind in ("product", "product_list"):
        if kind == "product":
            sections = [{"title": "", "products": [_str(action.get("product_retailer_id"))]}]
        else:
            sections = [{"title": _str(_dict(s).get("title")),
                         "products": [_str(_dict(p).get("product_retailer_id"))
                                      for p in _list(_dict(s).get("product_items"))]}
                        for s in _list(action.get("sections"))]
        return {**base, "kind": "products", "catalog_id": _str(action.get("catalog_id")), "sections": sections}
    if kind == "catalog_message":
        return {**base, "kind": "catalog", "thumbnail": _str(params.get("thumbnail_product_retailer_id"))}
    if kind == "order_details":
        return {**base, "kind": "order_details", "order": order_details_of(interactive)}
    if kind == "order_status":
        order = _dict(params.get("order"))
        return {**base, "kind": "order_status", "reference_id": _str(params.get("reference_id")),
                "order_status": _str(order.get("status")).replace("_", " "),
                "description": _str(order.get("description"))}
    if kind == "flow":
        return {**base, "kind": "flow", "cta": _str(params.get("flow_cta")) or "Open"}
    if kind == "location_request_message":
        return {**base, "kind": "location_request"}
    return {**base, "kind": "text", "text": base["body"] or f"[{kind or 'interactive'} message]"}


def customer_interactive(interactive: dict[str, Any]) -> dict[str, Any]:
    kind = _str(interactive.get("type")).lower()
    reply = _dict(interactive.get(kind))
    if kind in ("button_reply", "list_reply"):
        return {"kind": "text", "text": _str(reply.get("title")), "note": _str(reply.get("description"))}
    if kind == "nfm_reply":
        return {"kind": "text", "text": _str(reply.get("body")) or "Form sent"}
    return {"kind": "text", "text": f"[{kind or 'interactive'} reply]"}


def content_of(view: dict[str, Any], templates: Templates, media_url: MediaUrl) -> dict[str, Any]:
    payload = _dict(view.get("payload"))
    kind = _str(view.get("type"))
    content = payload.get(kind)
    if kind == "text":
        return {"kind": "text", "text": _str(_dict(content).get("body"))}
    if kind in MEDIA_KINDS:
        return {"kind": "media", **media_of(kind, _dict(content), media_url)}
    if kind == "location":
        return {"kind": "location", **location_of(_dict(content))}
    if kind == "contacts":
        return {"kind": "contacts", "contacts": contacts_of(content)}
    if kind == "template":
        return template_bubble(_dict(content), templates, media_url)
    if kind == "interactive":
        if view.get("direction") == "in":
            return customer_interactive(_dict(content))
        return interactive_bubble(_dict(content), media_url)
    if kind == "button":
        return {"kind": "text", "text": _str(_dict(content).get("text"))}
    if kind == "order":
        items = [{"retailer_id": _str(_dict(i).get("product_retailer_id")), "quantity": _dict(i).get("quantity", 1)}
                 for i in _list(_dict(content).get("product_items"))]
        return {"kind": "order", "items": items, "text": _str(_dict(content).get("text"))}
    if kind == "system":
        return {"kind": "system", "text": _str(_dict(content).get("body"))}
    if kind == "reaction":
        return {"kind": "reaction", "emoji": _str(_dict(content).get("emoji"))}
    return {"kind": "text", "text": f"[{kind or 'unknown'} message]"}


def summary(bubble: dict[str, Any]) -> str:
    """A one-line snippet, for quoted replies."""
    for key in ("text", "body", "caption", "name"):
        if bubble.get(key):
            return str(bubble[key])[:80]
    header = bubble.get("header") or {}
    if header.get("text"):
        return str(header["text"])[:80]
    return {"media": "📎 " + str(bubble.get("media_kind", "file")), "location": "📍 Location",
            "contacts": "👤 Contact", "order": "🛒 Order"}.get(str(bubble.get("kind")), "Message")


def clock(timestamp: Any) -> str:
    try:
        return datetime.fromtimestamp(int(timestamp), UTC).astimezone(TZ).strftime("%H:%M")
    except (TypeError, ValueError, OverflowError):
        return ""


def bubbles(views: list[dict[str, Any]], templates: Templates, media_url: MediaUrl) -> list[dict[str, Any]]:
    """The thread as the phone shows it, oldest first; reactions sit on the message they react to."""
    shown: list[dict[str, Any]] = []
    by_wamid: dict[str, dict[str, Any]] = {}
    for view in views:
        mine = view.get("direction") == "in"
        if not mine and view.get("status") not in VISIBLE_OUT:
            continue
        bubble = content_of(view, templates, media_url)
        bubble.update(wamid=_str(view.get("wamid")), mine=mine, time=clock(view.get("timestamp")),
                      status=_str(view.get("status")), reactions={}, quoted=None)
        if mine:
            bubble["ticks"] = "read" if view.get("status") == "read" else "delivered"
        context = _str(view.get("context_wamid"))
        if bubble["kind"] == "reaction":
            target = by_wamid.get(_str(_dict(_dict(view.get("payload")).get("reaction")).get("message_id")))
            if target is not None:
                side = "me" if mine else "them"
                if bubble["emoji"]:
                    target["reactions"][side] = bubble["emoji"]
                else:
                    target["reactions"].pop(side, None)
                continue
            if not bubble["emoji"]:
                continue
        if context and context in by_wamid:
            quoted = by_wamid[context]
            bubble["quoted"] = {"mine": quoted["mine"], "text": summary(quoted)}
        by_wamid[bubble["wamid"]] = bubble
        shown.append(bubble)
    return shown
