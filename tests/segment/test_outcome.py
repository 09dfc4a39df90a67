"""Segments over broadcast outcomes ("new segment from outcome", retargeting): each outcome selects the recipients
it names, scoped to the organization; a broken value is a 422 naming its path; the builder describes it readably."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from softdukan.broadcast.models import Broadcast, BroadcastRecipient
from softdukan.contact.models import Contact
from softdukan.conversation import status as st
from softdukan.conversation.outbound import record_outbound
from softdukan.platform.runtime import Runtime
from softdukan.platform.uow import unit_of_work
from softdukan.segment.definition import parse_definition
from softdukan.segment.form import BuilderForm, describe
from tests.support.whatsapp import WhatsAppFixture, make_whatsapp
from tests.support.whatsapp_fixtures import T0

# name → (recipient state, message status or None, replied)
PEOPLE = {"asha": ("sent", st.READ, True), "bilal": ("sent", st.DELIVERED, False), "chitra": ("sent", st.SENT, False),
          "dev": ("failed", None, False), "esha": ("skipped", None, False), "farid": ("sent", st.FAILED, False)}


async def seed_broadcast(runtime: Runtime, wa: WhatsAppFixture, people: dict[str, tuple[str, str | None, bool]]
                         ) -> int:
    """A finished broadcast whose recipients ended as `people` says (its messages moved as status webhooks would)."""
    async with unit_of_work(runtime) as uow:
        now = uow.clock.now()
        broadcast = Broadcast(organization_id=wa.org.org.id, name="Diwali offer", phone_number_id=wa.phone.id,
                              template_name="diwali", template_language="en", template_category="MARKETING",
                              variables={}, audience={"kind": "all"}, status="completed", created_at=now,
                              updated_at=now)
        uow.session.add(broadcast)
        await uow.flush()
        for i, (name, (state, message_status, replied)) in enumerate(people.items()):
            contact = Contact(organization_id=wa.org.org.id, wa_id=f"9198000111{i:02d}", phone=f"9198000111{i:02d}",
                              name=name.title(), source="api", attributes={}, first_seen_at=now, created_at=now,
                              updated_at=now)
            uow.session.add(contact)
            await uow.flush()
            message_id = None
            if message_status is not None:
                message = await record_outbound(uow, wa.phone, contact, type="template", content={}, preview="hi")
                message.status, message.status_rank = message_status, st.rank(message_status)
                for status in (st.DELIVERED, st.READ):
                    if st.rank(message_status) >= st.rank(status) and message_status != st.FAILED:
                        setattr(message, st.TIMESTAMP_COLUMN[status], now)
                message_id = message.id
            uow.session.add(BroadcastRecipient(
                organization_id=wa.org.org.id, broadcast_id=broadcast.id, contact_id=contact.id, wa_id=contact.wa_id,
                state=state, reason="opted_out" if state == "skipped" else None, message_id=message_id,
                sent_at=now if state == "sent" else None, replied_at=now + timedelta(minutes=5) if replied else None,
                attempts=1, deferrals=0, created_at=now, updated_at=now))
        await uow.flush()
        return broadcast.id


def outcome(broadcast_id: Any, what: str, op: str = "outcome") -> dict[str, Any]:
    return {"all": [{"field": "broadcast", "op": op, "value": {"broadcast_id": broadcast_id, "outcome": what}}]}


async def names(client: httpx.AsyncClient, auth: dict[str, str], definition: dict[str, Any]) -> set[str]:
    response = await client.post("/v1/segments/preview", json={"definition": definition}, headers=auth)
    assert response.status_code == 200, response.text
    return {c["name"] for c in response.json()["contacts"]}


@pytest.mark.parametrize(("what", "expected"), [
    ("sent", {"Asha", "Bilal", "Chitra"}),
    ("delivered", {"Asha", "Bilal"}),
    ("not_delivered", {"Chitra"}),
    ("read", {"Asha"}),
    ("not_read", {"Bilal", "Chitra"}),
    ("replied", {"Asha"}),
    ("not_replied", {"Bilal", "Chitra"}),
    ("failed", {"Dev", "Farid"}),  # refused at send, or accepted and then failed by the status webhook
    ("skipped", {"Esha"}),
])
async def test_each_outcome_selects_its_recipients(client, runtime, wa, what: str, expected: set[str]) -> None:
    broadcast_id = await seed_broadcast(runtime, wa, PEOPLE)
    assert await names(client, wa.org.auth, outcome(broadcast_id, what)) == expected


async def test_not_outcome_includes_contacts_outside_the_broadcast(client, runtime, wa) -> None:
    broadcast_id = await seed_broadcast(runtime, wa, PEOPLE)
    created = await client.post("/v1/contacts", json={"phone": "+919811122233", "name": "Gita"}, headers=wa.org.auth)
    assert created.status_code == 201, created.text
    assert await names(client, wa.org.auth, outcome(broadcast_id, "read", "not_outcome")) == {
        "Bilal", "Chitra", "Dev", "Esha", "Farid", "Gita"}


async def test_another_organizations_broadcast_selects_nobody(client, runtime, wa, clock) -> None:
    broadcast_id = await seed_broadcast(runtime, wa, PEOPLE)
    other = await make_whatsapp(runtime)
    await seed_broadcast(runtime, other, {"zoya": ("sent", st.READ, True)})
    assert await names(client, other.org.auth, outcome(broadcast_id, "sent")) == set()
    saved = await client.post("/v1/segments", json={"name": "Readers", "definition": outcome(broadcast_id, "read")},
                              headers=other.org.auth)
    assert saved.status_code == 201 and saved.json()["contact_count"] == 0, saved.text


@pytest.mark.parametrize(("value", "path"), [
    ({"broadcast_id": 1, "outcome": "opened"}, "definition.all[0].value"),
    ({"broadcast_id": "x", "outcome": "read"}, "definition.all[0].value"),
    ({"broadcast_id": 0, "outcome": "read"}, "definition.all[0].value"),
    ({"broadcast_id": 2**70, "outcome": "read"}, "definition.all[0].value"),
    ({"broadcast_id": 1}, "definition.all[0].value"),
    ("read", "definition.all[0].value"),
])
async def test_broken_outcome_values_are_422_with_the_path(client, wa, value: Any, path: str) -> None:
    response = await client.post("/v1/segments/preview", headers=wa.org.auth, json={
        "definition": {"all": [{"field": "broadcast", "op": "outcome", "value": value}]}})
    assert response.status_code == 422, response.text
    assert path in response.json()["error"]["details"]


def test_the_builder_describes_outcomes_and_edits_them_as_json() -> None:
    group = parse_definition({"all": [
        {"field": "broadcast", "op": "outcome", "value": {"broadcast_id": "12", "outcome": "read"}},
        {"field": "broadcast", "op": "not_outcome", "value": {"broadcast_id": 7, "outcome": "replied"}}]}, [])
    assert group.to_json()["all"][0]["value"] == {"broadcast_id": 12, "outcome": "read"}
    assert describe(group, {}, {12: "Diwali offer"}) == (
        "Read broadcast “Diwali offer” and Not: replied to broadcast #7")
    builder = BuilderForm.of(group)
    assert builder.advanced and '"outcome": "read"' in builder.definition_json


async def test_outcome_segments_are_counted_at_the_time_asked(client, runtime, wa) -> None:
    broadcast_id = await seed_broadcast(runtime, wa, PEOPLE)
    async with runtime.sessionmaker() as session:
        bilal = (await session.execute(
            select(BroadcastRecipient).join(Contact, Contact.id == BroadcastRecipient.contact_id)
            .where(Contact.name == "Bilal"))).scalar_one()
        bilal.replied_at = T0 + timedelta(hours=1)
        await session.commit()
    assert await names(client, wa.org.auth, outcome(broadcast_id, "replied")) == {"Asha", "Bilal"}
