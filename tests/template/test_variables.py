"""The variable mapper: a template + a mapping + a contact → the send's parameters (positional or named)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from softdukan.platform.errors import Invalid
from softdukan.template.models import NAMED, POSITIONAL, MessageTemplate
from softdukan.template.variables import (
    MissingVariable,
    RecipientValues,
    VariableSource,
    build_message,
    recipient_values,
    template_variables,
)
from tests.template.conftest import order_shipped


def template_of(definition: dict[str, Any]) -> MessageTemplate:
    return MessageTemplate(name=definition["name"], language=definition["language"],
                           parameter_format=NAMED if definition.get("parameter_format") == "NAMED" else POSITIONAL,
                           components=definition["components"])


ASHA = SimpleNamespace(name="Asha Verma", profile_name="asha", phone="919812345678", wa_id="919812345678",
                       attributes={"city": "Pune", "order_no": 1042, "vip": True, "empty": ""})


def test_positional_template_filled_from_fields_attributes_and_fixed_values() -> None:
    template = template_of(order_shipped())
    mapping = {"header.1": VariableSource("attribute", "order_no"), "body.1": VariableSource("field", "first_name"),
               "body.2": VariableSource("attribute", "order_no"), "body.3": VariableSource("fixed", "Friday"),
               "button.0": VariableSource("attribute", "order_no")}
    payload = build_message(template, mapping, recipient_values(ASHA)).to_payload("919812345678")
    assert payload["template"] == {"name": "order_shipped", "language": {"code": "en"}, "components": [
        {"type": "header", "parameters": [{"type": "text", "text": "1042"}]},
        {"type": "body", "parameters": [{"type": "text", "text": "Asha"}, {"type": "text", "text": "1042"},
                                        {"type": "text", "text": "Friday"}]},
        {"type": "button", "sub_type": "url", "index": 0, "parameters": [{"type": "text", "text": "1042"}]}]}


def test_named_template_sends_parameter_names() -> None:
    template = template_of({"name": "welcome", "language": "hi", "parameter_format": "NAMED", "components": [
        {"type": "BODY", "text": "Namaste {{first_name}}, your {{city}} store is open!"}]})
    assert [v.key for v in template_variables(template)] == ["body.first_name", "body.city"]
    message = build_message(template, {"body.first_name": VariableSource("field", "name"),
                                       "body.city": VariableSource("attribute", "city")}, recipient_values(ASHA))
    body = message.to_payload("919812345678")["template"]["components"][0]
    assert body["parameters"] == [{"type": "text", "text": "Asha Verma", "parameter_name": "first_name"},
                                  {"type": "text", "text": "Pune", "parameter_name": "city"}]


def test_fallback_is_used_when_the_value_is_missing_or_blank() -> None:
    template = template_of({"name": "hello", "language": "en", "components": [
        {"type": "BODY", "text": "Hello {{1}}, welcome to {{2}} today!"}]})
    nameless = RecipientValues({"name": None}, {"empty": "  "})
    message = build_message(template, {"body.1": VariableSource("field", "name", fallback="there"),
                                       "body.2": VariableSource("attribute", "empty", fallback="our shop")},
                            nameless)
    texts = [p["text"] for p in message.to_payload("91981")["template"]["components"][0]["parameters"]]
    assert texts == ["there", "our shop"]


def test_missing_value_without_fallback_names_the_variable_and_contact() -> None:
    template = template_of(order_shipped())
    mapping = {"header.1": VariableSource("fixed", "#1"), "body.1": VariableSource("attribute", "nickname")}
    with pytest.raises(MissingVariable) as caught:
        build_message(template, mapping, recipient_values(ASHA))
    assert caught.value.status == 422 and caught.value.code == "template_variable_missing"
    assert "{{1}} in the body" in caught.value.message and "+919812345678" in caught.value.message
    assert caught.value.details == {"variable": "body.1"}
    with pytest.raises(MissingVariable) as unmapped:
        build_message(template, {"header.1": VariableSource("fixed", "#1"),
                                 **{f"body.{n}": VariableSource("fixed", "x") for n in (1, 2, 3)}},
                      recipient_values(ASHA))
    assert unmapped.value.details == {"variable": "button.0"} and "button 1" in unmapped.value.message


def test_media_header_copy_code_and_booleans() -> None:
    template = template_of({"name": "diwali", "language": "en", "components": [
        {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["4::x"]}},
        {"type": "BODY", "text": "Hello {{1}}, our Diwali sale is on now!"},
        {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Stop"},
                                        {"type": "COPY_CODE", "example": "DIWALI"}]}]})
    assert [v.key for v in template_variables(template)] == ["header", "body.1", "button.1"]
    message = build_message(template, {"header": VariableSource("fixed", "https://cdn.example/diwali.jpg"),
                                       "body.1": VariableSource("attribute", "vip"),
                                       "button.1": VariableSource("fixed", "DIWALI25")}, recipient_values(ASHA))
    parts = message.to_payload("91981")["template"]["components"]
    assert parts[0] == {"type": "header", "parameters": [{"type": "image",
                                                          "image": {"link": "https://cdn.example/diwali.jpg"}}]}
    assert parts[1]["parameters"] == [{"type": "text", "text": "Yes"}]
    assert parts[2] == {"type": "button", "sub_type": "copy_code", "index": 1,
                        "parameters": [{"type": "coupon_code", "coupon_code": "DIWALI25"}]}
    with pytest.raises(Invalid) as too_long:
        build_message(template, {"header": VariableSource("fixed", "123456"), "body.1": VariableSource("fixed", "x"),
                                 "button.1": VariableSource("fixed", "X" * 16)}, recipient_values(ASHA))
    assert too_long.value.code == "template_variable_invalid" and too_long.value.details == {"variable": "button.1"}


def test_bad_mappings_are_refused() -> None:
    with pytest.raises(Invalid):
        VariableSource("field", "password")
    with pytest.raises(Invalid):
        VariableSource("sql", "x")  # type: ignore[arg-type]
