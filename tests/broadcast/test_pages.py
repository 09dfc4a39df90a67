"""Dashboard pages of broadcasts with the in-process client: the form's template fragment and live panel (preview
for a chosen contact, breakdown, estimate; nothing written), save with errors kept, send now, schedule in the
organization's time zone (a past time is a clear error), the broadcast's page with its funnel and recipients, pause,
resume, cancel, resend to failed, a segment from an outcome, and an uploaded list of numbers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from softdukan.broadcast.models import Broadcast
from softdukan.platform.uow import unit_of_work
from softdukan.sandbox import service as sandbox
from tests.broadcast.engine_support import add_contacts, marketing_template, number, run_until_done
from tests.support.factories import browser_sign_in, csrf_from
from tests.template.conftest import Shop


async def signed_in(shop: Shop) -> str:
    await browser_sign_in(shop.client, shop.org.owner.email)
    return csrf_from((await shop.client.get("/broadcasts/new")).text)


def form(shop: Shop, template_id: int, **extra: Any) -> dict[str, Any]:
    return {"name": "Diwali offer", "phone_number_id": str(shop.number.id), "audience_kind": "all",
            "template_id": str(template_id), "src:body.first_name": "field", "val:body.first_name": "first_name",
            "fb:body.first_name": "there", "src:body.discount": "fixed", "val:body.discount": "20%",
            "retry_days_131049": "2", **extra}


async def broadcasts(shop: Shop) -> list[Broadcast]:
    async with shop.runtime.sessionmaker() as session:
        return list((await session.execute(select(Broadcast).order_by(Broadcast.id))).scalars())


async def test_form_fragments_preview_and_breakdown_write_nothing(shop: Shop) -> None:
    template_id = await marketing_template(shop)
    [asha, _] = await add_contacts(shop, 2)
    await add_contacts(shop, 1, start=10, opted_out_at=shop.clock.now())
    token = await signed_in(shop)
    htmx = {"HX-Request": "true", "X-CSRF-Token": token}

    page = await shop.client.get("/broadcasts/new")
    assert page.status_code == 200 and "diwali_offer" in page.text and 'id="broadcast-check"' in page.text
    fragment = await shop.client.post("/broadcasts/form", data={"phone_number_id": str(shop.number.id),
                                                               "template_id": str(template_id)}, headers=htmx)
    assert fragment.status_code == 200
    assert 'name="src:body.first_name"' in fragment.text and 'name="src:body.discount"' in fragment.text

    check = await shop.client.post("/broadcasts/check", headers=htmx,
                                   data={**form(shop, template_id), "preview_contact_id": str(asha)})
    assert check.status_code == 200, check.text
    assert 'data-count="eligible">2<' in check.text and 'data-count="opted_out">1<' in check.text
    assert "Hi Customer, 20% off all teas this Diwali!" in check.text and 'id="estimate"' in check.text
    assert f'data-contact-id="{asha}"' in check.text
    missing = await shop.client.post("/broadcasts/check", data=form(shop, template_id, **{"val:body.discount": ""}),
                                     headers=htmx)
    assert 'id="check-problem"' in missing.text and "body.discount" in missing.text
    assert await broadcasts(shop) == []  # the live panel counted on a draft it rolled back


async def test_save_draft_errors_kept_then_send_now_and_watch_the_page(shop: Shop) -> None:
    template_id = await marketing_template(shop)
    await add_contacts(shop, 3)
    await add_contacts(shop, 1, start=20, blocked_at=shop.clock.now())
    token = await signed_in(shop)

    bad = await shop.client.post("/broadcasts/new", data={**form(shop, template_id, name=""), "csrf_token": token,
                                                         "action": "save"})
    assert bad.status_code == 422 and 'value="20%"' in bad.text and await broadcasts(shop) == []
    saved = await shop.client.post("/broadcasts/new", data={**form(shop, template_id), "csrf_token": token,
                                                           "action": "save"})
    assert saved.status_code == 303, saved.text
    [draft] = await broadcasts(shop)
    assert draft.status == "draft" and draft.variables["mapping"]["body.first_name"]["fallback"] == "there"
    edit = await shop.client.get(f"/broadcasts/{draft.id}/edit")
    assert edit.status_code == 200 and 'value="Diwali offer"' in edit.text and 'value="20%"' in edit.text
    sent = await shop.client.post(f"/broadcasts/{draft.id}/edit", data={**form(shop, template_id), "csrf_token": token,
                                                                       "action": "send"})
    assert sent.status_code == 303 and sent.headers["location"] == f"/broadcasts/{draft.id}?flash=launched"
    assert (await run_until_done(shop, draft.id)).status == "completed"

    page = await shop.client.get(f"/broadcasts/{draft.id}")
    assert page.status_code == 200
    assert 'data-stage="sent"' in page.text and 'data-count="3"' in page.text and "Blocked: 1" in page.text
    assert page.text.count('data-recipient-id=') == 4
    skipped = await shop.client.get(f"/broadcasts/{draft.id}", params={"state": "skipped"})
    assert skipped.text.count('data-recipient-id=') == 1 and "+91 98000 00020" in skipped.text.replace("\u00a0", " ")
    live = await shop.client.get(f"/broadcasts/{draft.id}/funnel")
    assert live.status_code == 200 and 'data-status="completed"' in live.text
    [blocked] = [r for r in (await shop.client.get(f"/v1/broadcasts/{draft.id}/recipients", params={
        "state": "skipped"}, headers=shop.org.auth)).json()["data"]]
    timeline = await shop.client.get(f"/contacts/{blocked['contact_id']}")
    assert f'data-broadcast-id="{draft.id}"' in timeline.text and "skipped" in timeline.text
    listing = await shop.client.get("/broadcasts")
    assert f'data-broadcast-id="{draft.id}"' in listing.text and "3 sent" in listing.text

    segment = await shop.client.post(f"/broadcasts/{draft.id}/segments", data={
        "csrf_token": token, "outcome": "sent", "segment_name": "Got Diwali"})
    assert segment.status_code == 303 and segment.headers["location"].startswith("/segments/")
    shown = await shop.client.get(segment.headers["location"])
    assert "Was sent broadcast #" in shown.text and 'id="segment-total">3<' in shown.text
    assert (await shop.client.post(f"/broadcasts/{draft.id}/edit", data={**form(shop, template_id), "csrf_token": token,
                                                                        "action": "save"})).status_code == 409


async def test_schedule_in_the_organizations_time_zone_pause_resume_cancel(shop: Shop) -> None:
    template_id = await marketing_template(shop)
    await add_contacts(shop, 2)
    token = await signed_in(shop)
    local_now = shop.clock.now().astimezone(ZoneInfo("Asia/Kolkata"))

    past = (local_now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    refused = await shop.client.post("/broadcasts/new", data={**form(shop, template_id), "csrf_token": token,
                                                             "action": "schedule", "scheduled_local": past})
    assert refused.status_code == 422 and "already passed" in refused.text and await broadcasts(shop) == []
    missing = await shop.client.post("/broadcasts/new", data={**form(shop, template_id), "csrf_token": token,
                                                             "action": "schedule", "scheduled_local": ""})
    assert missing.status_code == 422 and "Choose the date and time" in missing.text

    at = (local_now + timedelta(days=1)).replace(hour=9, minute=30)
    scheduled = await shop.client.post("/broadcasts/new", data={**form(shop, template_id), "csrf_token": token,
                                                               "action": "schedule",
                                                               "scheduled_local": at.strftime("%Y-%m-%dT%H:%M")})
    assert scheduled.status_code == 303, scheduled.text
    [b] = await broadcasts(shop)
    assert b.status == "scheduled" and b.scheduled_at == at.replace(second=0, microsecond=0)
    page = await shop.client.get(f"/broadcasts/{b.id}")
    assert at.strftime("%d %b %Y, 09:30") in page.text and 'id="pause-broadcast"' in page.text

    for action, status in (("pause", "paused"), ("resume", "scheduled"), ("cancel", "cancelled")):
        response = await shop.client.post(f"/broadcasts/{b.id}/{action}", data={"csrf_token": token})
        assert response.status_code == 303, (action, response.text)
        assert (await broadcasts(shop))[0].status == status
    assert (await shop.client.post(f"/broadcasts/{b.id}/pause", data={"csrf_token": token})).status_code == 409
    no_csrf = await shop.client.post(f"/broadcasts/{b.id}/resume", data={})
    assert no_csrf.status_code == 403


async def test_uploaded_list_and_resend_to_failed_opens_the_new_draft(shop: Shop) -> None:
    template_id = await marketing_template(shop)
    token = await signed_in(shop)
    async with unit_of_work(shop.runtime) as uow:
        await sandbox.update_profile(uow, {"failures": [{"code": 131026, "recipient": number(2)}]})
    csv = f"name,phone\nAsha,+{number(1)}\nBilal,+{number(2)}\nBad,12\nAsha again,+{number(1)}\n".encode()
    sent = await shop.client.post("/broadcasts/new", data={
        **form(shop, template_id, audience_kind="list", numbers=""), "csrf_token": token, "action": "send"},
        files={"numbers_file": ("list.csv", csv, "text/csv")})
    assert sent.status_code == 303, sent.text
    [b] = await broadcasts(shop)
    assert b.audience["numbers"] == [f"+{number(1)}", f"+{number(2)}", "12", f"+{number(1)}"]
    await run_until_done(shop, b.id)
    for _ in range(3):
        await shop.settle(seconds=2)
    page = await shop.client.get(f"/broadcasts/{b.id}")
    assert "131026" in page.text and "Invalid number: 1" in page.text

    resend = await shop.client.post(f"/broadcasts/{b.id}/resend-failed", data={"csrf_token": token})
    assert resend.status_code == 303, resend.text
    drafts = [x for x in await broadcasts(shop) if x.status == "draft"]
    assert len(drafts) == 1 and resend.headers["location"] == f"/broadcasts/{drafts[0].id}/edit?flash=resend"
    opened = await shop.client.get(resend.headers["location"])
    assert opened.status_code == 200 and "failed recipients" in opened.text and 'id="audience-outcome"' in opened.text
    kept = await shop.client.post(f"/broadcasts/{drafts[0].id}/edit", data={
        **form(shop, template_id, audience_kind="outcome", outcome_broadcast_id=str(b.id), outcome="failed"),
        "csrf_token": token, "action": "save"})
    assert kept.status_code == 303, kept.text
    resent = next(x for x in await broadcasts(shop) if x.id == drafts[0].id)
    assert resent.audience == {"kind": "outcome", "broadcast_id": b.id, "outcome": "failed"}
    async with shop.runtime.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Broadcast)) == 2
