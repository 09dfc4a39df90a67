# ruff: noqa: F811  (the `shop` fixture of tests/template is imported by name and requested by name)
"""Template quick-reply buttons marked "stop promotions": the sandbox's customer taps one on a marketing template
they received and is opted out at once (and confirmed); an unmarked button changes nothing; a quick reply whose
text is a keyword works without a mark. Marks are checked: quick-reply buttons of the organization's templates."""

from __future__ import annotations

from typing import Any

from softdukan.contact.keywords import DEFAULT_OPT_OUT_REPLY
from tests.contact.consent_support import (
    CUSTOMER,
    bind,
    consent_action,
    consent_events,
    contact,
    inbound,
    received,
    taps,
)
from tests.conversation.template_send_support import approved, send
from tests.support.factories import make_org
from tests.support.whatsapp_fixtures import clock  # noqa: F401  (fixture)
from tests.template.conftest import Shop, shop  # noqa: F401  (fixture)


def promo(name: str = "weekend_offer", buttons: tuple[str, ...] = ("Stop promotions", "Yes please")
          ) -> dict[str, Any]:
    return {"name": name, "language": "en", "category": "MARKETING", "parameter_format": "POSITIONAL",
            "components": [
                {"type": "BODY", "text": "This weekend only: 20% off every tea tin in our Indiranagar store."},
                {"type": "BUTTONS", "buttons": [
                    {"type": "URL", "text": "Shop now", "url": "https://chai.example/offers"},
                    *({"type": "QUICK_REPLY", "text": text} for text in buttons)]}]}


async def sent_to_customer(shop: Shop, template: dict[str, Any]) -> str:
    """The template is sent to the customer through POST /v1/messages and accepted by the sandbox; its wamid."""
    response = await send(shop, {"id": template["id"]}, to=CUSTOMER)
    assert response.status_code == 202, response.text
    await shop.settle(seconds=1)  # sent on the customer's phone: now it can be tapped
    return str((await shop.client.get(f"/v1/messages/{response.json()['id']}", headers=shop.org.auth)).json()["wamid"])


async def mark(shop: Shop, *marks: tuple[int, int]) -> Any:
    return await shop.client.patch("/v1/consent-settings", headers=shop.org.auth, json={
        "stop_buttons": [{"template_id": t, "button_index": i} for t, i in marks]})


async def test_tapping_a_marked_button_opts_out_and_an_unmarked_one_does_not(shop: Shop) -> None:
    await bind(shop)
    template = await approved(shop, promo())
    response = await mark(shop, (template["id"], 1))
    assert response.status_code == 200, response.text
    assert response.json()["stop_buttons"] == [{"template_id": template["id"], "button_index": 1,
                                                "template_name": "weekend_offer", "language": "en",
                                                "button_text": "Stop promotions"}]
    wamid = await sent_to_customer(shop, template)

    yes = await taps(shop, wamid, 2)  # "Yes please"
    assert (await contact(shop)).opted_out_at is None
    assert await consent_action(shop, (await inbound(shop, yes)).id) is None

    stop = await taps(shop, wamid, 1)  # "Stop promotions"
    customer = await contact(shop)
    assert customer.opted_out_at is not None
    assert await consent_events(shop, customer.id) == [("opted_out", "button")]
    action = await consent_action(shop, (await inbound(shop, stop)).id)
    assert action is not None and action.trigger == "button 1 of template weekend_offer"
    assert (await received(shop))[-1] == DEFAULT_OPT_OUT_REPLY

    again = await send(shop, {"id": template["id"]}, to=CUSTOMER)  # marketing to an opted-out contact: refused
    assert again.status_code == 409 and again.json()["error"]["code"] == "contact_opted_out"


async def test_a_quick_reply_whose_text_is_a_keyword_needs_no_mark(shop: Shop) -> None:
    await bind(shop)
    template = await approved(shop, promo("festive_offer", buttons=("STOP", "Tell me more")))
    wamid = await sent_to_customer(shop, template)
    await taps(shop, wamid, 1)
    assert (await contact(shop)).opted_out_at is not None


async def test_the_mark_follows_the_button_not_its_position_in_another_template(shop: Shop) -> None:
    await bind(shop)
    marked = await approved(shop, promo("offer_a"))
    other = await approved(shop, promo("offer_b"))
    assert (await mark(shop, (marked["id"], 1))).status_code == 200
    wamid = await sent_to_customer(shop, other)
    await taps(shop, wamid, 1)  # same index and text, but offer_b's button is not marked
    assert (await contact(shop)).opted_out_at is None


async def test_marks_are_checked_and_replaced_whole(shop: Shop) -> None:
    await bind(shop)
    template = await approved(shop, promo())
    url_button = await mark(shop, (template["id"], 0))
    assert url_button.status_code == 422 and url_button.json()["error"]["code"] == "not_a_quick_reply"
    missing = await mark(shop, (template["id"], 7))
    assert missing.status_code == 422
    assert (await mark(shop, (template["id"], 1), (template["id"], 2))).status_code == 200
    replaced = await mark(shop, (template["id"], 2))
    assert [b["button_index"] for b in replaced.json()["stop_buttons"]] == [2]
    cleared = await mark(shop)
    assert cleared.json()["stop_buttons"] == []


async def test_another_organizations_template_cannot_be_marked(shop: Shop) -> None:
    await bind(shop)
    template = await approved(shop, promo())
    intruder = await make_org(shop.runtime, "Intruder")
    response = await shop.client.patch("/v1/consent-settings", headers=intruder.auth, json={
        "stop_buttons": [{"template_id": template["id"], "button_index": 1}]})
    assert response.status_code == 404 and response.json()["error"]["code"] == "template_not_found"
    assert "weekend_offer" not in response.text
    mine = await shop.client.get("/v1/consent-settings", headers=intruder.auth)
    assert mine.status_code == 200 and mine.json()["stop_buttons"] == []
