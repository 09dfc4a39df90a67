# ruff: noqa: F811  (the `shop` fixture of tests/template is imported by name and requested by name)
"""The organization's consent settings: /v1/consent-settings and Settings → Opt-out keywords (words, replies,
stop-promotions buttons), checked input with a message per problem, permissions."""

from __future__ import annotations

from softdukan.contact.keywords import DEFAULT_OPT_IN_REPLY, DEFAULT_OPT_OUT_REPLY
from tests.contact.consent_support import CUSTOMER, received, says
from tests.contact.test_consent_buttons import promo
from tests.conversation.template_send_support import approved
from tests.support.factories import browser_sign_in, csrf_from, form_post, make_org
from tests.support.whatsapp_fixtures import clock  # noqa: F401  (fixture)
from tests.template.conftest import Shop, shop  # noqa: F401  (fixture)


async def test_defaults_then_words_cleaned_and_replies_reset(client, runtime) -> None:  # type: ignore[no-untyped-def]
    org = await make_org(runtime)
    default = (await client.get("/v1/consent-settings", headers=org.auth)).json()
    assert default == {"builtin_opt_out_words": ["STOP", "UNSUBSCRIBE"], "builtin_opt_in_words": ["START"],
                       "opt_out_words": [], "opt_in_words": [], "opt_out_reply": DEFAULT_OPT_OUT_REPLY,
                       "opt_in_reply": DEFAULT_OPT_IN_REPLY, "opt_out_reply_is_default": True,
                       "opt_in_reply_is_default": True, "stop_buttons": []}
    saved = await client.patch("/v1/consent-settings", headers=org.auth, json={
        "opt_out_words": ["  Band   karo ", "band karo", "stop", "", "Cancel"], "opt_in_reply": "Welcome back!"})
    assert saved.status_code == 200, saved.text
    assert saved.json()["opt_out_words"] == ["Band karo", "Cancel"]  # repeats and built-ins dropped
    assert saved.json()["opt_in_reply"] == "Welcome back!"
    reset = await client.patch("/v1/consent-settings", headers=org.auth,
                               json={"opt_in_reply": "", "opt_in_words": None})
    assert (reset.json()["opt_in_reply"], reset.json()["opt_in_reply_is_default"]) == (DEFAULT_OPT_IN_REPLY, True)
    assert reset.json()["opt_out_words"] == ["Band karo", "Cancel"]  # untouched: not in the request


async def test_bad_settings_are_refused_with_the_field_and_change_nothing(client, runtime) -> None:  # type: ignore[no-untyped-def]
    org = await make_org(runtime)
    assert (await client.patch("/v1/consent-settings", headers=org.auth,
                               json={"opt_out_words": ["cancel"]})).status_code == 200
    both = await client.patch("/v1/consent-settings", headers=org.auth, json={
        "opt_out_words": ["cancel", "haan"], "opt_in_words": ["Haan"]})
    assert both.status_code == 422 and both.json()["error"]["code"] == "keyword_in_both_lists"
    assert "haan" in both.json()["error"]["message"]
    start = await client.patch("/v1/consent-settings", headers=org.auth, json={"opt_out_words": ["START"]})
    assert start.status_code == 422  # START always opts in
    long_word = await client.patch("/v1/consent-settings", headers=org.auth, json={"opt_out_words": ["ok", "x" * 41]})
    assert long_word.status_code == 422 and "opt_out_words[1]" in long_word.json()["error"]["details"]
    long_reply = await client.patch("/v1/consent-settings", headers=org.auth, json={"opt_out_reply": "y" * 1001})
    assert long_reply.status_code == 422 and long_reply.json()["error"]["code"] == "reply_too_long"
    unknown = await client.patch("/v1/consent-settings", headers=org.auth, json={"opt_out": ["x"]})
    assert unknown.status_code == 422
    after = (await client.get("/v1/consent-settings", headers=org.auth)).json()
    assert (after["opt_out_words"], after["opt_in_words"], after["opt_out_reply"]) == (["cancel"], [],
                                                                                        DEFAULT_OPT_OUT_REPLY)


async def test_reading_needs_contacts_read_and_changing_needs_consent_settings_write(client, runtime) -> None:  # type: ignore[no-untyped-def]
    reader = await make_org(runtime, scopes=["contacts:read"])
    assert (await client.get("/v1/consent-settings", headers=reader.auth)).status_code == 200
    refused = await client.patch("/v1/consent-settings", headers=reader.auth, json={"opt_out_words": ["bas"]})
    assert refused.status_code == 403 and refused.json()["error"]["details"]["required"] == "consent_settings:write"
    writer = await make_org(runtime, scopes=["consent_settings:write"])
    assert (await client.patch("/v1/consent-settings", headers=writer.auth,
                               json={"opt_out_words": ["bas"]})).status_code == 200
    assert (await client.get("/v1/consent-settings", headers=writer.auth)).status_code == 403


async def test_settings_page_saves_words_reply_and_buttons_and_they_work(shop: Shop) -> None:
    template = await approved(shop, promo())
    client = shop.client
    await browser_sign_in(client, shop.org.owner.email)
    page = await client.get("/settings/consent")
    assert page.status_code == 200 and "UNSUBSCRIBE" in page.text
    assert f'value="{template["id"]}:1"' in page.text and f'value="{template["id"]}:0"' not in page.text  # URL button

    bad = await form_post(client, "/settings/consent", {"opt_out_words": "bas\nhaan", "opt_in_words": "haan",
                                                       "opt_out_reply": "", "opt_in_reply": ""})
    assert bad.status_code == 422 and "can&#39;t both opt out and opt in" in bad.text and "bas\nhaan" in bad.text

    html = (await client.get("/settings/consent")).text
    saved = await client.post("/settings/consent", data={
        "csrf_token": csrf_from(html), "opt_out_words": "bas, band karo", "opt_in_words": "",
        "opt_out_reply": "Done, no more offers.", "opt_in_reply": "",
        "stop_buttons": [f"{template['id']}:1", f"{template['id']}:2"]})
    assert saved.status_code == 303, saved.text
    shown = (await client.get("/settings/consent")).text
    assert f'id="sb-{template["id"]}-1" checked' in shown and f'id="sb-{template["id"]}-2" checked' in shown
    assert "Done, no more offers." in shown

    marked = (await client.get("/v1/consent-settings", headers=shop.org.auth)).json()
    assert [b["button_text"] for b in marked["stop_buttons"]] == ["Stop promotions", "Yes please"]
    await says(shop, "BAS", wa_id=CUSTOMER)
    assert await received(shop) == ["Done, no more offers."]

