"""The demo organization's templates: submitted once through the product's path (the offer's image sample through
the Resumable Upload API), then approved by the sandbox's review and its webhooks."""

from __future__ import annotations

from typing import Any

import httpx

from softdukan.demo import credentials_file, ensure_demo
from softdukan.demo_templates import chai_png
from softdukan.platform.runtime import Runtime
from softdukan.platform.uow import unit_of_work
from softdukan.sandbox import service as sandbox
from softdukan.sandbox.graph.webhooks import use_transport
from softdukan.sandbox.models import SandboxUpload
from softdukan.template.models import MessageTemplate
from tests.support.whatsapp import rows


async def test_demo_gets_its_templates_approved_by_the_sandbox(runtime: Runtime, settings: Any, app: Any,
                                                                drain_jobs: Any) -> None:
    async with unit_of_work(runtime) as uow:
        await sandbox.update_profile(uow, {"template_review_delay_seconds": 0})
    try:
        await ensure_demo(settings)
        await ensure_demo(settings)  # idempotent: nothing submitted twice
    finally:
        credentials_file(settings.database_url).unlink(missing_ok=True)
    templates = {t.name: t for t in await rows(runtime, MessageTemplate)}
    assert sorted(templates) == ["diwali_chai_offer", "login_code", "order_update", "tea_tasting_invite"]
    assert {t.status for t in templates.values()} == {"PENDING"}
    assert (templates["order_update"].parameter_format, templates["login_code"].category) == ("named",
                                                                                              "AUTHENTICATION")
    [handle] = templates["diwali_chai_offer"].components[0]["example"]["header_handle"]
    [sample] = await rows(runtime, SandboxUpload)
    assert sample.handle == handle and sample.data == chai_png() and sample.data.startswith(b"\x89PNG\r\n\x1a\n")

    use_transport(httpx.ASGITransport(app=app))  # the sandbox's webhooks reach this app, as they reach `serve`
    try:
        await drain_jobs()
    finally:
        use_transport(None)
    assert {t.name: t.status for t in await rows(runtime, MessageTemplate)} == {
        "diwali_chai_offer": "APPROVED", "order_update": "APPROVED", "login_code": "APPROVED",
        "tea_tasting_invite": "APPROVED"}
