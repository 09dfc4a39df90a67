"""/v1/tickets: open, list, read, reply, close and reopen with an API key; bad input; another organization's ids."""

from __future__ import annotations

from tests.support.factories import make_org
from tests.support_tickets.helpers import emails_to, make_staff, messages_of, open_ticket, ticket_row, tickets_count


async def test_open_list_read_reply_close_and_reopen(client, runtime, settings) -> None:
    staff = await make_staff(settings)
    shop = await make_org(runtime, "Chai Point")
    opened = await client.post("/v1/tickets", headers=shop.auth, json={
        "category": "technical", "subject": "Webhook deliveries fail", "body": "Since noon every delivery fails."})
    assert opened.status_code == 201, opened.text
    ticket = opened.json()
    assert (ticket["number"], ticket["status"], ticket["category"], ticket["verification"]) == (
        1, "open", "technical", None)
    assert [m["body"] for m in ticket["messages"]] == ["Since noon every delivery fails."]
    assert ticket["opened_by"] and "@" not in ticket["opened_by"]  # the API key's prefix
    assert len(await emails_to(runtime, staff.email)) == 1

    listed = await client.get("/v1/tickets", headers=shop.auth)
    assert listed.status_code == 200 and [t["id"] for t in listed.json()["data"]] == [ticket["id"]]
    assert (await client.get("/v1/tickets", params={"status": "closed"}, headers=shop.auth)).json()["data"] == []

    replied = await client.post(f"/v1/tickets/{ticket['id']}/messages", headers=shop.auth,
                                json={"body": "It works again now."})
    assert replied.status_code == 201 and replied.json()["author_type"] == "customer"
    read = (await client.get(f"/v1/tickets/{ticket['id']}", headers=shop.auth)).json()
    assert read["status"] == "waiting_on_staff" and len(read["messages"]) == 2

    closed = await client.post(f"/v1/tickets/{ticket['id']}/close", headers=shop.auth)
    assert closed.status_code == 200 and closed.json()["status"] == "closed" and closed.json()["closed_at"]
    again = await client.post(f"/v1/tickets/{ticket['id']}/messages", headers=shop.auth, json={"body": "Hello?"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "ticket_closed"
    reopened = await client.post(f"/v1/tickets/{ticket['id']}/reopen", headers=shop.auth)
    assert reopened.status_code == 200 and reopened.json()["status"] == "waiting_on_staff"


async def test_an_api_ticket_tells_the_owners_when_staff_answer(client, runtime, settings) -> None:
    from softdukan.platform.uow import unit_of_work
    from softdukan.support.service import ticket_service

    staff = await make_staff(settings)
    shop = await make_org(runtime)
    opened = (await client.post("/v1/tickets", headers=shop.auth, json={
        "category": "billing", "subject": "Invoice", "body": "Where is it?"})).json()
    assert (await ticket_row(runtime, opened["id"])).opened_by_user_id is None  # an API key opened it
    async with unit_of_work(runtime) as uow:
        await ticket_service.staff_reply(uow, await uow.session.get(type(staff), staff.id), opened["id"],
                                         "Under Invoices.")
    assert [e.subject for e in await emails_to(runtime, shop.owner.email)] == [
        "SoftDukan support replied to ticket #1"]
    read = (await client.get(f"/v1/tickets/{opened['id']}", headers=shop.auth)).json()
    assert read["messages"][-1] == {**read["messages"][-1], "author_type": "staff", "author": "Sam Staff"}


async def test_bad_input_gets_a_clear_error_and_changes_nothing(client, runtime) -> None:
    shop = await make_org(runtime)
    cases = [
        ({"category": "technical", "subject": "", "body": "x"}, "subject_required"),
        ({"category": "technical", "subject": "s" * 201, "body": "x"}, "subject_too_long"),
        ({"category": "technical", "subject": "s" * 5000, "body": "x"}, "validation_error"),
        ({"category": "technical", "subject": "Help", "body": " \n "}, "message_required"),
        ({"category": "technical", "subject": "Help", "body": "b" * 5001}, "message_too_long"),
        ({"category": "refund", "subject": "Help", "body": "x"}, "validation_error"),
        ({"subject": "Help", "body": "x"}, "validation_error"),
        ({"category": "other", "subject": "Help", "body": "x", "priority": "urgent"}, "validation_error"),
    ]
    for body, code in cases:
        response = await client.post("/v1/tickets", headers=shop.auth, json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"]["code"] == code, body
    assert await tickets_count(runtime) == 0
    ticket = await open_ticket(runtime, shop)
    empty = await client.post(f"/v1/tickets/{ticket.id}/messages", headers=shop.auth, json={"body": ""})
    assert empty.status_code == 422 and empty.json()["error"]["details"] == {"body": "A message is required."}
    for path in ("/v1/tickets/0", "/v1/tickets/abc", f"/v1/tickets/{2**63}"):
        assert (await client.get(path, headers=shop.auth)).status_code == 422
    assert (await client.get("/v1/tickets", params={"cursor": "x"}, headers=shop.auth)).status_code == 422
    assert len(await messages_of(runtime, ticket.id)) == 1


async def test_scopes_are_required(client, runtime) -> None:
    reader = await make_org(runtime, scopes=["support:read"])
    denied = await client.post("/v1/tickets", headers=reader.auth,
                               json={"category": "other", "subject": "Hi", "body": "Hello"})
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "permission_denied"
    assert (await client.get("/v1/tickets", headers=reader.auth)).status_code == 200
    assert (await client.get("/v1/tickets")).status_code == 401


async def test_another_organizations_ticket_is_404_on_every_route(client, runtime) -> None:
    victim, attacker = await make_org(runtime, "Alpha"), await make_org(runtime, "Bravo")
    ticket = await open_ticket(runtime, victim, subject="Alpha secret ticket", body="Alpha secret body")
    attempts = [("GET", f"/v1/tickets/{ticket.id}", None),
                ("POST", f"/v1/tickets/{ticket.id}/messages", {"body": "mine"}),
                ("POST", f"/v1/tickets/{ticket.id}/close", None),
                ("POST", f"/v1/tickets/{ticket.id}/reopen", None)]
    for method, path, body in attempts:
        response = await client.request(method, path, headers=attacker.auth, json=body)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["error"]["code"] == "ticket_not_found" and "Alpha secret" not in response.text
    listed = await client.get("/v1/tickets", headers=attacker.auth)
    assert listed.json()["data"] == [] and "Alpha secret" not in listed.text
    row = await ticket_row(runtime, ticket.id)
    assert (row.status, len(await messages_of(runtime, ticket.id))) == ("open", 1)
