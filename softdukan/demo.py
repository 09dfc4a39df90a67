"""The demo organization `make run` shows: created once, credentials printed every time."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from softdukan.auth.api_keys import api_key_service
from softdukan.auth.models import User
from softdukan.auth.permissions import ALL
from softdukan.auth.repository import UserRepository
from softdukan.auth.roles import role_service
from softdukan.auth.service import auth_service
from softdukan.config import ROOT, Settings
from softdukan.demo_broadcasts import seed_demo_audience
from softdukan.demo_chats import seed_demo_chats
from softdukan.demo_templates import seed_demo_templates
from softdukan.number.provision import ensure_demo_number
from softdukan.organization.models import Membership, Organization
from softdukan.organization.service import organization_service
from softdukan.platform.runtime import build_runtime
from softdukan.platform.uow import UnitOfWork, unit_of_work
from softdukan.team.service import team_service
from softdukan.wallet.service import grant

DEMO_EMAIL = "owner@demo-dukan.example.com"
DEMO_PASSWORD = "demo-Dukan-2026"
DEMO_BUSINESS = "Chai Point Demo Store"
DEMO_CREDIT_UNITS = 5_000_000  # ₹500 of WhatsApp credits on top of the welcome credit, to try broadcasts


def credentials_file(database_url: str) -> Path:
    """The demo's API key is shown once like any key, so it is kept beside the database it belongs to."""
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:12]
    return ROOT / "var" / f"demo-credentials-{digest}.json"


TEAMMATES = (("Priya Sharma", "priya", "manager"), ("Arjun Nair", "arjun", "agent"), ("Meera Iyer", "meera", "agent"))


async def _populate(uow: UnitOfWork, owner: User, org: Organization) -> None:
    """Teammates, teams, a custom role and a pending invitation, made through the real services."""
    subject = await organization_service.subject_for(uow, owner, org.id)
    assert subject is not None
    roles = {role.name: role for role in await role_service.list(uow, subject)}
    members = {}
    for name, handle, role in TEAMMATES:
        teammate = await auth_service.create_user(uow, email=f"{handle}@demo-dukan.example.com", name=name,
                                                  password=DEMO_PASSWORD, mobile=None)
        invitation = await organization_service.invite(uow, subject, email=teammate.email, role_id=roles[role].id)
        # accept as the teammate would, without the e-mailed token: mark it accepted and add the membership
        membership = Membership(organization_id=org.id, user_id=teammate.id, role_id=roles[role].id,
                                created_at=uow.clock.now())
        uow.session.add(membership)
        invitation.accepted_at = uow.clock.now()
        await uow.flush()
        members[handle] = membership
    await role_service.create(uow, subject, name="billing viewer", description="Reads the organization and audit log",
                              permissions=["organization:read", "audit:read", "members:read"])
    support = await team_service.create(uow, subject, name="Customer Support", description="Answers the shared inbox")
    sales = await team_service.create(uow, subject, name="Sales", description="Follows up leads from ads")
    for handle in ("arjun", "meera"):
        await team_service.add_member(uow, subject, support.id, members[handle].id)
    await team_service.add_member(uow, subject, sales.id, members["priya"].id)
    await organization_service.invite(uow, subject, email="new.hire@demo-dukan.example.com", role_id=roles["agent"].id)


async def ensure_demo(settings: Settings) -> dict[str, Any]:
    import softdukan.tasks  # noqa: F401  (the demo enqueues e-mail jobs)

    runtime = build_runtime(settings)
    saved_path = credentials_file(settings.database_url)
    try:
        async with unit_of_work(runtime) as uow:
            user = await UserRepository(uow.session).by_email(DEMO_EMAIL)
            saved = json.loads(saved_path.read_text()) if saved_path.exists() else None
            if user is None:
                user, org = await organization_service.sign_up(
                    uow, business_name=DEMO_BUSINESS, name="Asha Demo", email=DEMO_EMAIL, mobile="+919812345678",
                    password=DEMO_PASSWORD, ip=None)
                await _populate(uow, user, org)
                await grant(uow, org.id, units=DEMO_CREDIT_UNITS, key=f"demo:{org.id}", reason="Demo credit")
                saved = None
            else:
                org = (await organization_service.organizations_of(uow, user))[0][0]
            if saved is None or saved.get("organization_id") != org.id:
                subject = await organization_service.subject_for(uow, user, org.id)
                assert subject is not None
                created = await api_key_service.create(uow, subject, name="Demo key (all scopes)", scopes=sorted(ALL))
                saved = {"organization_id": org.id, "api_key": created.secret}
            # one connected sandbox number (made once); its Graph credentials are read back every run
            whatsapp = await ensure_demo_number(uow, org.id, business_name=DEMO_BUSINESS) if settings.sandbox else {}
            if whatsapp:
                await seed_demo_chats(uow, whatsapp["phone_number_id"])
                await seed_demo_templates(uow, user, org.id)
                await seed_demo_audience(uow, user, org.id)
    finally:
        await runtime.close()
    saved_path.parent.mkdir(parents=True, exist_ok=True)
    saved_path.write_text(json.dumps(saved))
    saved_path.chmod(0o600)
    return {"base_url": settings.base_url, "organization": DEMO_BUSINESS, "owner_email": DEMO_EMAIL,
            "owner_password": DEMO_PASSWORD, "api_key": saved["api_key"],
            "agent_email": "arjun@demo-dukan.example.com", "agent_password": DEMO_PASSWORD,
            "mailbox_url": f"{settings.base_url}/mailbox" if settings.mailbox_on else None, **whatsapp}
