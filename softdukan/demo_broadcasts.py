"""The demo's broadcast: two dozen tea-loving contacts (one opted out, one blocked), a segment of them, and a
marketing template; once the sandbox has approved the template (a few seconds after `serve` starts), the job
`demo.broadcast` creates and launches "Tea tasting invite" through the real broadcast engine, so the demo shows a
finished broadcast with its funnel, its skipped contacts and the sandbox's delivered and read statuses."""

from __future__ import annotations

from sqlalchemy import select

from softdukan.auth.models import User
from softdukan.broadcast.models import Broadcast
from softdukan.broadcast.service import BroadcastInput, broadcast_service
from softdukan.contact.repository import ContactRepository, TagRepository
from softdukan.demo_templates import TEA_TASTING as TEMPLATE
from softdukan.organization.service import organization_service
from softdukan.platform.errors import Conflict
from softdukan.platform.jobs.registry import task
from softdukan.platform.uow import UnitOfWork
from softdukan.segment.service import segment_service
from softdukan.template.models import APPROVED, MessageTemplate

TASK = "demo.broadcast"
NAMES = ["Aarav Sharma", "Ananya Iyer", "Vihaan Reddy", "Diya Nair", "Arjun Mehta", "Ishita Rao", "Kabir Singh",
         "Meera Pillai", "Rohan Gupta", "Saanvi Joshi", "Aditya Kulkarni", "Kavya Menon", "Dev Malhotra",
         "Nisha Bhat", "Rahul Verma", "Pooja Desai", "Siddharth Jain", "Tara Krishnan", "Vikram Chopra",
         "Zoya Khan", "Neil D'Souza", "Riya Banerjee", "Karan Patel", "Leela Hegde"]


async def seed_demo_audience(uow: UnitOfWork, owner: User, organization_id: int) -> None:
    """Contacts, tags and a segment (once), and the job that sends the demo broadcast."""
    subject = await organization_service.subject_for(uow, owner, organization_id)
    assert subject is not None
    now = uow.clock.now()
    contacts = ContactRepository(uow.session)
    numbers = [f"9198765{4000 + i:05d}" for i in range(len(NAMES))]
    if await contacts.by_wa_id(organization_id, numbers[0]) is not None:
        return
    await contacts.insert_new([{
        "organization_id": organization_id, "wa_id": n, "phone": n, "name": name, "source": "import",
        "attributes": {}, "first_seen_at": now, "opt_in_source": "import", "opted_in_at": now,
        "opted_out_at": now if i == 5 else None, "blocked_at": now if i == 9 else None,
        "created_at": now, "updated_at": now} for i, (n, name) in enumerate(zip(numbers, NAMES, strict=True))])
    found = await contacts.by_numbers(organization_id, numbers)
    tags = TagRepository(uow.session)
    made = await tags.ensure_many(organization_id, ["tea lovers", "vip"], now)
    pairs = [(c.id, made["tea lovers"].id) for c in found.values()]
    pairs += [(found[n].id, made["vip"].id) for n in numbers[::4]]
    await tags.attach(organization_id, pairs, now)
    await segment_service.create(uow, subject, name="Tea lovers", definition={"all": [
        {"field": "tags", "op": "has_any", "value": ["tea lovers"]}]})
    uow.enqueue(TASK, run_at=now, organization_id=organization_id, org_id=organization_id, owner_id=owner.id)


@task(TASK, max_attempts=12)
async def send_demo_broadcast(uow: UnitOfWork, org_id: int, owner_id: int) -> None:
    """Waits (retrying with backoff) until the sandbox approved the template, then launches the broadcast."""
    if await uow.session.scalar(select(Broadcast.id).where(Broadcast.organization_id == org_id).limit(1)):
        return
    owner = await uow.session.get(User, owner_id)
    subject = await organization_service.subject_for(uow, owner, org_id) if owner else None
    template = await uow.session.scalar(select(MessageTemplate).where(
        MessageTemplate.organization_id == org_id, MessageTemplate.name == TEMPLATE))
    if subject is None or template is None:
        return
    if template.status != APPROVED:
        raise Conflict("template_not_approved", "The demo template is not approved yet; trying again shortly.")
    from softdukan.segment.models import Segment

    segment_id = await uow.session.scalar(select(Segment.id).where(Segment.organization_id == org_id,
                                                                   Segment.name == "Tea lovers"))
    audience = {"kind": "segment", "segment_id": segment_id} if segment_id else {"kind": "tags",
                                                                                "tags": ["tea lovers"]}
    broadcast = await broadcast_service.create(uow, subject, BroadcastInput(
        name="Tea tasting invite", template_id=template.id, audience=audience, variables={"mapping": {
            "body.1": {"source": "field", "value": "first_name", "fallback": "there"}}}))
    await broadcast_service.launch(uow, subject, broadcast.id)
