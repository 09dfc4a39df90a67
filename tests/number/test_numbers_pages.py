"""Numbers pages in-process: list, detail, the wizard's start page, and Meta's failures shown on the page."""

from __future__ import annotations

from tests.dashboard import form_post, has_inline_error
from tests.number import connected_number
from tests.support.factories import browser_sign_in, make_org


async def test_numbers_page_lists_status_quality_limit_and_throughput(client, runtime) -> None:
    org = await make_org(runtime)
    _, number = await connected_number(runtime, org)
    _, coexistence = await connected_number(runtime, org, coexistence=True)
    await browser_sign_in(client, org.owner.email)

    home = await client.get("/")
    assert 'href="/numbers"' in home.text  # in the navigation
    page = await client.get("/numbers")
    assert page.status_code == 200
    row = page.text.split(f'data-number-id="{number.id}"', 1)[1].split("</tr>", 1)[0]
    for shown in (number.display_phone_number, "CONNECTED", "GREEN", "TIER_250", "80 msg/s", "APPROVED", "Connected"):
        assert shown in row, shown
    coex_row = page.text.split(f'data-number-id="{coexistence.id}"', 1)[1].split("</tr>", 1)[0]
    assert "20 msg/s" in coex_row and "WhatsApp Business app" in coex_row

    detail = await client.get(f"/numbers/{number.id}")
    assert detail.status_code == 200
    assert number.phone_number_id in detail.text and "Refresh from Meta" in detail.text


async def test_connect_page_offers_the_three_ways(client, runtime) -> None:
    org = await make_org(runtime)
    await browser_sign_in(client, org.owner.email)
    page = await client.get("/numbers/connect")
    assert page.status_code == 200
    assert 'id="account-form"' in page.text and 'id="number-form"' not in page.text  # no account yet
    assert "From the WhatsApp Business app" in page.text and "From another provider" in page.text
    coexistence = await client.get("/numbers/connect?mode=coexistence")
    assert 'id="coexistence-form"' in coexistence.text
    await connected_number(runtime, org)
    with_account = await client.get("/numbers/connect?mode=migration")
    assert 'id="number-form"' in with_account.text and "switch off two-step verification" in with_account.text


async def test_bad_input_shows_inline_errors_and_keeps_values(client, runtime) -> None:
    org = await make_org(runtime)
    account, _ = await connected_number(runtime, org)
    await browser_sign_in(client, org.owner.email)
    response = await form_post(client, "/numbers/connect/number",
                               {"account_id": str(account.id), "phone_number": "12", "verified_name": "Chai Point"},
                               page="/numbers/connect")
    assert response.status_code == 422
    assert has_inline_error(response.text, "phone_number") and 'value="Chai Point"' in response.text


async def test_meta_unreachable_is_shown_on_the_page_not_a_500(offline_client, runtime) -> None:
    client = offline_client
    org = await make_org(runtime)
    _, number = await connected_number(runtime, org)
    await browser_sign_in(client, org.owner.email)
    signup = await form_post(client, "/numbers/connect/account", {"business_name": "Chai Point", "waba_name": ""},
                             page="/numbers/connect")
    assert signup.status_code == 502 and "could not be reached" in signup.text
    assert 'value="Chai Point"' in signup.text
    refresh = await form_post(client, f"/numbers/{number.id}/refresh", {}, page=f"/numbers/{number.id}")
    assert refresh.status_code == 502 and "could not be reached" in refresh.text


async def test_a_finished_number_has_no_wizard(client, runtime) -> None:
    org = await make_org(runtime)
    _, number = await connected_number(runtime, org)
    await browser_sign_in(client, org.owner.email)
    response = await client.get(f"/numbers/{number.id}/connect")
    assert response.status_code == 303 and response.headers["location"].startswith(f"/numbers/{number.id}")
