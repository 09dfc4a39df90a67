"""Dashboard: Support — the list, opening a ticket, its conversation, replying, closing and reopening; bad input
shown on the form; another organization's tickets are 404 on every page."""

from __future__ import annotations

from tests.support.factories import browser_sign_in, csrf_from, form_post, make_org
from tests.support_tickets.helpers import emails_to, make_staff, messages_of, open_ticket, ticket_row, tickets_count


async def test_open_a_ticket_and_converse_from_the_dashboard(client, runtime, settings) -> None:
    staff = await make_staff(settings)
    shop = await make_org(runtime, "Chai Point")
    await browser_sign_in(client, shop.owner.email)
    home = await client.get("/")
    assert 'href="/support"' in home.text  # in the navigation
    empty = await client.get("/support")
    assert empty.status_code == 200 and 'id="no-tickets"' in empty.text and 'href="/support/new"' in empty.text
    opened = await form_post(client, "/support/new", {"category": "technical", "subject": "Templates rejected",
                                                      "body": "All our templates get rejected since Monday."})
    assert opened.status_code == 303, opened.text
    ticket_id = int(opened.headers["location"].split("/support/")[1].split("?")[0])
    page = await client.get(opened.headers["location"])
    assert page.status_code == 200
    assert "#1 Templates rejected" in page.text and "All our templates get rejected since Monday." in page.text
    assert "SoftDukan support will answer" in page.text  # the flash
    assert len(await emails_to(runtime, staff.email)) == 1

    replied = await form_post(client, f"/support/{ticket_id}/reply", {"body": "Here is a screenshot link."},
                              page=f"/support/{ticket_id}")
    assert replied.status_code == 303
    assert [m.body for m in await messages_of(runtime, ticket_id)][-1] == "Here is a screenshot link."
    listed = await client.get("/support")
    assert f'href="/support/{ticket_id}"' in listed.text and 'data-status="waiting_on_staff"' in listed.text

    closed = await form_post(client, f"/support/{ticket_id}/close", {}, page=f"/support/{ticket_id}")
    assert closed.status_code == 303 and (await ticket_row(runtime, ticket_id)).status == "closed"
    page = await client.get(f"/support/{ticket_id}")
    assert "Reopen" in page.text and f'action="/support/{ticket_id}/reply"' not in page.text
    reopened = await form_post(client, f"/support/{ticket_id}/reopen", {}, page=f"/support/{ticket_id}")
    assert reopened.status_code == 303 and (await ticket_row(runtime, ticket_id)).status == "waiting_on_staff"


async def test_bad_input_is_shown_on_the_form(client, runtime) -> None:
    shop = await make_org(runtime)
    await browser_sign_in(client, shop.owner.email)
    refused = await form_post(client, "/support/new", {"category": "technical", "subject": "", "body": "Text"})
    assert refused.status_code == 422 and "A subject is required." in refused.text
    assert 'value="Text"' in refused.text or ">Text</textarea>" in refused.text  # what was typed stays
    long = await form_post(client, "/support/new", {"category": "other", "subject": "s" * 201, "body": "b"})
    assert long.status_code == 422 and "Use at most 200 characters." in long.text
    bad = await form_post(client, "/support/new", {"category": "refund", "subject": "Hi", "body": "b"})
    assert bad.status_code == 422 and "Choose technical, billing or other." in bad.text
    assert await tickets_count(runtime) == 0
    ticket = await open_ticket(runtime, shop)
    empty = await form_post(client, f"/support/{ticket.id}/reply", {"body": "  "}, page=f"/support/{ticket.id}")
    assert empty.status_code == 422 and "A message is required." in empty.text
    too_long = await form_post(client, f"/support/{ticket.id}/reply", {"body": "z" * 5001},
                               page=f"/support/{ticket.id}")
    assert too_long.status_code == 422 and "Use at most 5000 characters." in too_long.text
    assert len(await messages_of(runtime, ticket.id)) == 1
    no_token = await client.post("/support/new", data={"category": "other", "subject": "Hi", "body": "x"})
    assert no_token.status_code == 403 and await tickets_count(runtime) == 1


async def test_another_organizations_ticket_is_404_on_every_page(client, runtime) -> None:
    victim, attacker = await make_org(runtime, "Alpha"), await make_org(runtime, "Bravo")
    ticket = await open_ticket(runtime, victim, subject="Alpha secret ticket", body="Alpha secret body")
    await browser_sign_in(client, attacker.owner.email)
    token = csrf_from((await client.get("/support/new")).text)
    page = await client.get(f"/support/{ticket.id}")
    assert page.status_code == 404 and "Alpha secret" not in page.text
    for action, data in (("reply", {"body": "mine"}), ("close", {}), ("reopen", {})):
        response = await client.post(f"/support/{ticket.id}/{action}", data={**data, "csrf_token": token})
        assert response.status_code == 404 and "Alpha secret" not in response.text, action
    listed = await client.get("/support")
    assert "Alpha secret" not in listed.text
    assert (await ticket_row(runtime, ticket.id)).status == "open"
    assert len(await messages_of(runtime, ticket.id)) == 1
