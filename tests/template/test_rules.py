"""Meta's template rules (reference §9.2), one message per rule, checked before anything is submitted."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from softdukan.template.rules import check, details
from tests.template.conftest import order_shipped


def rules_of(definition: Any) -> set[str]:
    return {p.rule for p in check(definition)}


def with_body(text: str, examples: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    d = order_shipped(**extra)
    d["components"][1] = {"type": "BODY", "text": text}
    if examples is not None:
        d["components"][1]["example"] = {"body_text": [examples]}
    return d


def with_buttons(*buttons: dict[str, Any], category: str = "UTILITY") -> dict[str, Any]:
    d = order_shipped(category=category)
    d["components"][3] = {"type": "BUTTONS", "buttons": list(buttons)}
    return d


QR = {"type": "QUICK_REPLY", "text": "Yes"}
URL = {"type": "URL", "text": "Shop", "url": "https://x.example/shop"}


def test_a_complete_valid_template_has_no_problem() -> None:
    assert check(order_shipped()) == []
    named = {"name": "welcome", "language": "hi", "category": "MARKETING", "parameter_format": "NAMED",
             "components": [{"type": "body", "text": "Namaste {{first_name}}, your {{city}} store is open today!",
                             "example": {"body_text_named_params": [{"param_name": "first_name", "example": "Asha"},
                                                                    {"param_name": "city", "example": "Pune"}]}}]}
    assert check(named) == []


@pytest.mark.parametrize(("definition", "rule"), [
    (order_shipped(name="Order Shipped"), "name_characters"),
    (order_shipped(name="a" * 513), "name_too_long"),
    (order_shipped(name=""), "name_required"),
    (order_shipped(language="english"), "language_code"),
    (order_shipped(category="PROMO"), "category"),
    (order_shipped(parameter_format="MIXED"), "parameter_format"),
    (with_body("Hello " + "word " * 210 + "end {{1}} done", ["x"]), "body_too_long"),
    (with_body("{{1}} is your code, keep it safe", ["123"]), "variable_at_edge"),
    (with_body("Your code is ready, {{1}}", ["Asha"]), "variable_at_edge"),
    (with_body("Hi {{1}}{{2}} your order is ready now", ["a", "b"]), "variables_adjacent"),
    (with_body("Hi {{1}} and {{3}} your order is ready now", ["a", "b"]), "variables_not_sequential"),
    (with_body("Hi {{ 1 }} your order is ready now", ["a"]), "variable_syntax"),
    (with_body("Hi {{first}} your order is ready now", ["a"]), "variable_syntax"),
    (with_body("Hi {{1} your order is ready now", []), "variable_braces"),
    (with_body("Hi {{1}} your order is ready now"), "body_example_missing"),
    (with_body("Hi {{1}} your order {{2}} is ready now", ["Asha"]), "body_example_missing"),
    (with_body("Hi {{1}} your order is ready now", ["{{2}}"]), "body_example_has_variable"),
    (with_body("Hi {{1}}, {{2}}, {{3}} ok", ["a", "b", "c"]), "too_many_variables"),
    (with_body(""), "body_required"),
])
def test_each_rule_has_its_own_message(definition: dict[str, Any], rule: str) -> None:
    problems = check(definition)
    assert rule in {p.rule for p in problems}, problems
    mine = next(p for p in problems if p.rule == rule)
    assert mine.message.endswith(".") and len(mine.message) > 20


def test_header_rules() -> None:
    d = order_shipped()
    d["components"][0] = {"type": "HEADER", "format": "TEXT", "text": "*Big* {{1}} and {{2}} sale",
                          "example": {"header_text": ["a", "b"]}}
    assert {"header_formatting", "header_one_variable"} <= rules_of(d)
    d["components"][0] = {"type": "HEADER", "format": "TEXT", "text": "x" * 61}
    assert "header_too_long" in rules_of(d)
    d["components"][0] = {"type": "HEADER", "format": "TEXT", "text": "Order {{1}} is here"}
    assert "header_example_missing" in rules_of(d)
    d["components"][0] = {"type": "HEADER", "format": "IMAGE"}
    assert "header_media_example" in rules_of(d)
    d["components"][0] = {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["4::aW1hZ2U="]}}
    assert check(d) == []
    d["components"][0] = {"type": "HEADER", "format": "HOLOGRAM"}
    assert "header_format" in rules_of(d)


def test_footer_rules() -> None:
    d = order_shipped()
    d["components"][2] = {"type": "FOOTER", "text": "Reply {{1}}" + "x" * 60}
    assert {"footer_variables", "footer_too_long"} <= rules_of(d)


def test_button_rules() -> None:
    assert "too_many_buttons" in rules_of(with_buttons(*[QR] * 11))
    assert "too_many_url" in rules_of(with_buttons(URL, URL, URL))
    assert "quick_replies_grouped" in rules_of(with_buttons(QR, URL, QR))
    assert "quick_replies_grouped" not in rules_of(with_buttons(QR, QR, URL))
    assert "button_label_too_long" in rules_of(with_buttons({**QR, "text": "x" * 26}))
    assert "button_label_required" in rules_of(with_buttons({"type": "QUICK_REPLY"}))
    assert "button_url" in rules_of(with_buttons({**URL, "url": "ftp://x"}))
    assert "button_url_variable_end" in rules_of(with_buttons({**URL, "url": "https://x.example/{{1}}/a",
                                                               "example": ["https://x.example/1/a"]}))
    assert "button_url_example" in rules_of(with_buttons({**URL, "url": "https://x.example/{{1}}"}))
    assert "button_url_variable" in rules_of(with_buttons({**URL, "url": "https://x.example/{{1}}{{2}}"}))
    assert "button_phone_number" in rules_of(with_buttons({"type": "PHONE_NUMBER", "text": "Call",
                                                           "phone_number": "call me maybe"}))
    assert "too_many_phone_number" in rules_of(with_buttons(*[{"type": "PHONE_NUMBER", "text": "Call",
                                                               "phone_number": "+919812345678"}] * 2))
    assert "copy_code_too_long" in rules_of(with_buttons({"type": "COPY_CODE", "example": "x" * 16}))
    assert "copy_code_example" in rules_of(with_buttons({"type": "COPY_CODE"}))
    assert "button_type" in rules_of(with_buttons({"type": "TELEPORT", "text": "Go"}))
    assert "buttons_empty" in rules_of(with_buttons())
    assert "otp_button_category" in rules_of(with_buttons({"type": "OTP", "otp_type": "COPY_CODE"}))
    assert "otp_button_required" in rules_of(with_buttons(QR, category="AUTHENTICATION"))
    assert check(with_buttons(QR, QR, URL, {"type": "PHONE_NUMBER", "text": "Call", "phone_number": "+919812345678"},
                              {"type": "COPY_CODE", "example": "DIWALI25"})) == []


def test_component_structure() -> None:
    d = order_shipped()
    d["components"].append(copy.deepcopy(d["components"][1]))
    d["components"].append({"type": "CAROUSEL"})
    assert {"body_repeated", "component_type"} <= rules_of(d)
    assert rules_of({"name": "x", "language": "en", "category": "UTILITY", "components": []}) == {"body_required"}
    assert rules_of({**order_shipped(), "components": "BODY"}) == {"components_not_a_list"}
    assert rules_of(["not", "an", "object"]) == {"not_an_object"}


def test_details_map_each_field_to_its_messages() -> None:
    problems = check(with_body("{{1}} and {{3}} here", ["a", "b"]))
    mapped = details(problems)
    assert "start or end" in mapped["body.text"] and "without gaps" in mapped["body.text"]


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=30),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                        max_size=4), max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(components=st.lists(st.dictionaries(st.sampled_from(["type", "format", "text", "example", "buttons"]),
                                           json_values, max_size=5), max_size=5),
       junk=json_values)
def test_any_json_gives_problems_never_an_exception(components: list[Any], junk: Any) -> None:
    check({"name": "x", "language": "en", "category": "MARKETING", "components": components})
    check(junk)
