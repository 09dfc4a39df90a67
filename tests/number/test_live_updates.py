"""The numbers list and a number's page update live: they listen to number.updated / number.account_updated (SSE,
re-dispatched by app.js) and re-fetch the affected row or the page body as an htmx fragment."""

from __future__ import annotations

from sqlalchemy import update

from softdukan.number.models import PhoneNumber
from tests.number import connected_number
from tests.support.factories import browser_sign_in, make_org


async def test_pages_subscribe_and_fragments_show_the_current_state(client, runtime) -> None:
    org = await make_org(runtime)
    account, number = await connected_number(runtime, org)
    await browser_sign_in(client, org.owner.email)

    page = await client.get("/numbers")
    assert f'id="number-row-{number.id}"' in page.text and f'data-account-id="{account.id}"' in page.text
    assert '"number.updated"' in page.text and '"number.account_updated"' in page.text
    detail = await client.get(f"/numbers/{number.id}")
    assert 'id="number-detail"' in detail.text and '"number.updated"' in detail.text

    async with runtime.sessionmaker() as session:  # what a quality webhook would change
        await session.execute(update(PhoneNumber).where(PhoneNumber.id == number.id).values(
            quality_rating="RED", messaging_limit_tier="TIER_1K"))
        await session.commit()
    row = await client.get(f"/numbers/{number.id}/row", headers={"HX-Request": "true"})
    assert row.status_code == 200 and "<tr" in row.text
    assert f'id="number-row-{number.id}"' in row.text and "RED" in row.text and "TIER_1K" in row.text
    assert "<html" not in row.text
    body = await client.get(f"/numbers/{number.id}/detail", headers={"HX-Request": "true"})
    assert body.status_code == 200 and 'id="number-detail"' in body.text
    assert "RED" in body.text and "TIER_1K" in body.text and "<html" not in body.text


async def test_fragments_of_another_organization_are_404(client, runtime) -> None:
    victim = await make_org(runtime)
    _, number = await connected_number(runtime, victim)
    intruder = await make_org(runtime)
    await browser_sign_in(client, intruder.owner.email)
    assert (await client.get(f"/numbers/{number.id}/row")).status_code == 404
    assert (await client.get(f"/numbers/{number.id}/detail")).status_code == 404
