"""The demo organization `make run` shows: created once, credentials printed every time."""

from __future__ import annotations

import json
from typing import Any

from softdukan.auth.api_keys import api_key_service
from softdukan.auth.permissions import ALL
from softdukan.auth.repository import UserRepository
from softdukan.config import ROOT, Settings
from softdukan.organization.service import organization_service
from softdukan.platform.runtime import build_runtime
from softdukan.platform.uow import unit_of_work

DEMO_EMAIL = "owner@demo-dukan.example.com"
DEMO_PASSWORD = "demo-Dukan-2026"
DEMO_BUSINESS = "Chai Point Demo Store"
CREDENTIALS_FILE = ROOT / "var" / "demo-credentials.json"


async def ensure_demo(settings: Settings) -> dict[str, Any]:
    import softdukan.tasks  # noqa: F401  (the demo enqueues e-mail jobs)

    runtime = build_runtime(settings)
    try:
        async with unit_of_work(runtime) as uow:
            user = await UserRepository(uow.session).by_email(DEMO_EMAIL)
            saved = json.loads(CREDENTIALS_FILE.read_text()) if CREDENTIALS_FILE.exists() else None
            if user is None:
                user, org = await organization_service.sign_up(
                    uow, business_name=DEMO_BUSINESS, name="Asha Demo", email=DEMO_EMAIL, mobile="+919812345678",
                    password=DEMO_PASSWORD, ip=None)
                saved = None
            else:
                org = (await organization_service.organizations_of(uow, user))[0][0]
            if saved is None or saved.get("organization_id") != org.id:
                subject = await organization_service.subject_for(uow, user, org.id)
                assert subject is not None
                created = await api_key_service.create(uow, subject, name="Demo key (all scopes)", scopes=sorted(ALL))
                saved = {"organization_id": org.id, "api_key": created.secret}
    finally:
        await runtime.close()
    CREDENTIALS_FILE.parent.mkdir(parents=True, exist_ok=True)
    CREDENTIALS_FILE.write_text(json.dumps(saved))
    CREDENTIALS_FILE.chmod(0o600)
    return {"base_url": settings.base_url, "organization": DEMO_BUSINESS, "owner_email": DEMO_EMAIL,
            "owner_password": DEMO_PASSWORD, "api_key": saved["api_key"],
            "mailbox_url": f"{settings.base_url}/mailbox" if settings.mailbox_on else None}
