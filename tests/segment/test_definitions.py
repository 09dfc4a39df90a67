"""Every field and operator of a segment definition, counted and listed over a small world of contacts built
through the product (API and real webhooks), and the 422 naming each broken condition's path."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.segment.support import build_world


async def members(client: httpx.AsyncClient, auth: dict[str, str], definition: dict[str, Any]) -> set[str]:
    response = await client.post("/v1/segments/preview", json={"definition": definition}, headers=auth)
    assert response.status_code == 200, response.text
    body = response.json()
    names = {c["name"] or c["wa_id"] for c in body["contacts"]}
    assert body["count"] == len(names)  # the world has fewer contacts than a preview shows
    return names


def one(field: str, op: str, value: Any = None, **extra: Any) -> dict[str, Any]:
    condition = {"field": field, "op": op, **extra}
    if value is not None:
        condition["value"] = value
    return {"all": [condition]}


CASES = [
    # tags
    (one("tags", "has_any", ["vip"]), {"Asha", "Bilal"}),
    (one("tags", "has_any", ["VIP", "pune"]), {"Asha", "Bilal", "Chitra"}),
    (one("tags", "has_all", ["VIP", " Pune "]), {"Asha"}),
    (one("tags", "has_none", ["VIP"]), {"Chitra", "919800000004", "Esha"}),
    # text attribute
    (one("attribute", "equals", "PUNE", key="city"), {"Asha"}),
    (one("attribute", "contains", "pune", key="city"), {"Asha", "Bilal"}),
    (one("attribute", "not_equals", "Pune", key="city"), {"Bilal", "Chitra", "919800000004", "Esha"}),
    (one("attribute", "empty", key="city"), {"Chitra", "919800000004", "Esha"}),
    (one("attribute", "not_empty", key="city"), {"Asha", "Bilal"}),
    # number attribute
    (one("attribute", "gte", 3, key="orders"), {"Asha", "Bilal"}),
    (one("attribute", "gt", "3", key="orders"), {"Asha"}),
    (one("attribute", "lt", 3, key="orders"), {"Chitra"}),
    (one("attribute", "equals", 0, key="orders"), {"Chitra"}),
    (one("attribute", "between", [1, 12], key="orders"), {"Asha", "Bilal"}),
    # date attribute (dates compare as days; "within the last N days" counts from the organization's today)
    (one("attribute", "before", "1991-01-01", key="birthday"), {"Asha"}),
    (one("attribute", "after", "1990-03-05", key="birthday"), set()),
    (one("attribute", "equals", "05/03/1990", key="birthday"), {"Asha"}),
    (one("attribute", "between", ["1990-01-01", "1990-12-31"], key="birthday"), {"Asha"}),
    (one("attribute", "within_last_days", 7, key="renewal"), {"Chitra"}),
    (one("attribute", "within_last_days", 2, key="renewal"), set()),
    # boolean and choice
    (one("attribute", "is", True, key="vip"), {"Asha"}),
    (one("attribute", "is", "no", key="vip"), {"Chitra"}),
    (one("attribute", "in", ["gold", "Silver"], key="plan"), {"Asha", "Bilal"}),
    (one("attribute", "not_in", ["Gold"], key="plan"), {"Bilal", "Chitra", "919800000004", "Esha"}),
    # consent
    (one("consent", "is", "opted_in"), {"Asha", "Esha"}),
    (one("consent", "is", "opted_out"), {"Bilal"}),
    (one("consent", "is", "blocked"), {"Chitra"}),
    (one("consent", "is", "never_asked"), {"Chitra", "919800000004"}),
    (one("consent", "is_not", "blocked"), {"Asha", "Bilal", "919800000004", "Esha"}),
    # last inbound message
    (one("last_inbound", "within_days", 7), {"Asha", "919800000004"}),
    (one("last_inbound", "within_days", 1), {"Asha"}),
    (one("last_inbound", "not_within_days", 30), {"Bilal"}),
    (one("last_inbound", "never"), {"Chitra", "Esha"}),
    (one("last_inbound", "ever"), {"Asha", "Bilal", "919800000004"}),
    (one("last_inbound", "before", "2025-08-01"), {"Bilal"}),
    (one("last_inbound", "after", "2025-08-29"), {"Asha", "919800000004"}),
    # the 24-hour window, source, conversations
    (one("window", "is", "open"), {"Asha"}),
    (one("window", "is", "closed"), {"Bilal", "Chitra", "919800000004", "Esha"}),
    (one("source", "in", ["inbound"]), {"919800000004"}),
    (one("source", "in", ["ad"]), {"Asha"}),
    (one("source", "not_in", ["api", "ad"]), {"919800000004"}),
    (one("source", "in", ["import"]), set()),
    (one("conversation", "is", "unread"), {"Asha", "Bilal", "919800000004"}),
    (one("conversation", "is", "no_conversation"), {"Chitra", "Esha"}),
    # groups
    ({"any": [{"field": "consent", "op": "is", "value": "blocked"},
              {"all": [{"field": "tags", "op": "has_any", "value": ["VIP"]},
                       {"field": "consent", "op": "is_not", "value": "opted_out"}]}]}, {"Asha", "Chitra"}),
    ({"all": [{"any": []}, {"field": "window", "op": "is", "value": "closed"},
              {"field": "last_inbound", "op": "ever"}]}, {"Bilal", "919800000004"}),
    ({}, {"Asha", "Bilal", "Chitra", "919800000004", "Esha"}),
    ({"all": []}, {"Asha", "Bilal", "Chitra", "919800000004", "Esha"}),
]


async def test_every_field_and_operator(client, drain_jobs, wa) -> None:  # type: ignore[no-untyped-def]
    await build_world(client, drain_jobs, wa)
    wrong = []
    for definition, expected in CASES:
        got = await members(client, wa.org.auth, definition)
        if got != expected:
            wrong.append(f"{definition}: expected {sorted(expected)}, got {sorted(got)}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(("definition", "path", "words"), [
    ({"all": [{"field": "colour", "op": "is", "value": "red"}]}, "definition.all[0].field", "Choose a field"),
    ({"all": [{"field": "tags", "op": "equals", "value": ["x"]}]}, "definition.all[0].op", "has_any"),
    ({"all": [{"field": "tags", "op": "has_any", "value": []}]}, "definition.all[0].value", "at least one"),
    ({"all": [{"field": "attribute", "key": "nope", "op": "equals", "value": 1}]}, "definition.all[0].key",
     "No contact attribute"),
    ({"all": [{"field": "attribute", "key": "orders", "op": "contains", "value": "1"}]}, "definition.all[0].op",
     "number attribute"),
    ({"all": [{"field": "attribute", "key": "orders", "op": "gt", "value": "many"}]}, "definition.all[0].value",
     "Expected a number"),
    ({"all": [{"field": "attribute", "key": "orders", "op": "between", "value": [9, 2]}]},
     "definition.all[0].value", "not be above"),
    ({"all": [{"field": "attribute", "key": "birthday", "op": "before", "value": "31/02/2020"}]},
     "definition.all[0].value", "date"),
    ({"all": [{"field": "attribute", "key": "plan", "op": "in", "value": ["Platinum"]}]},
     "definition.all[0].value", "Gold, Silver, Bronze"),
    ({"all": [{"field": "last_inbound", "op": "within_days", "value": 0}]}, "definition.all[0].value", "1 to 3650"),
    ({"all": [{"field": "last_inbound", "op": "never", "value": 3}]}, "definition.all[0].value", "takes no value"),
    ({"all": [{"field": "consent", "op": "is", "value": "maybe"}]}, "definition.all[0].value", "opted_in"),
    ({"all": [{"field": "source", "op": "in", "value": ["tv"]}]}, "definition.all[0].value", "import"),
    ({"all": [{"field": "window", "op": "is"}]}, "definition.all[0].value", "Give a value"),
    ({"all": [{"field": "window", "op": "is", "value": "open", "extra": 1}]}, "definition.all[0]", "Unknown keys"),
    ({"all": [{"any": [{"field": "consent", "op": "is", "value": "x"}]}]}, "definition.all[0].any[0].value",
     "opted_in"),
    ({"all": "everyone"}, "definition.all", "list"),
    ({"both": []}, "definition", '"all" or "any"'),
    ({"all": [{"all": [{"all": [{"all": [{"all": []}]}]}]}]}, "definition.all[0].all[0].all[0].all[0]",
     "at most 4 deep"),
    ({"all": [{"field": "window", "op": "is", "value": "open"}] * 51}, "definition", "at most 50"),
])
async def test_broken_conditions_are_named_by_path(client, runtime, wa, definition, path, words) -> None:  # type: ignore[no-untyped-def]
    auth = wa.org.auth
    for body in ({"key": "orders", "label": "Orders", "type": "number"},
                 {"key": "birthday", "label": "Birthday", "type": "date"},
                 {"key": "plan", "label": "Plan", "type": "choice", "options": ["Gold", "Silver", "Bronze"]}):
        assert (await client.post("/v1/contact-attributes", json=body, headers=auth)).status_code == 201
    for url, body in (("/v1/segments/preview", {"definition": definition}),
                      ("/v1/segments", {"name": "Broken", "definition": definition})):
        response = await client.post(url, json=body, headers=auth)
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "invalid_segment_definition"
        assert path in error["details"], error
        assert words in error["details"][path], error
    assert (await client.get("/v1/segments", headers=auth)).json()["data"] == []


async def test_every_error_is_reported_at_once(client, wa) -> None:  # type: ignore[no-untyped-def]
    definition = {"any": [{"field": "window", "op": "is", "value": "ajar"}, {"field": "tags", "op": "has_any"},
                          {"field": "consent", "op": "is", "value": "opted_in"}]}
    response = await client.post("/v1/segments/preview", json={"definition": definition}, headers=wa.org.auth)
    assert set(response.json()["error"]["details"]) == {"definition.any[0].value", "definition.any[1].value"}
