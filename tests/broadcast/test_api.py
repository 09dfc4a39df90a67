"""/v1/broadcasts end to end against the in-process sandbox: drafts, launch now and scheduled, pause, resume, cancel,
the funnel and recipients, resend to failed, segments from outcomes, and bad input that changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from softdukan.broadcast.models import Broadcast
from softdukan.platform.uow import unit_of_work
from softdukan.sandbox import service as sandbox
from tests.broadcast.engine_support import MAPPING, add_contacts, marketing_template, number, run_until_done
from tests.template.conftest import Shop


def body(template_id: int, **extra: Any) -> dict[str, Any]:
    return {"name": "Diwali offer", "template_id": template_id, "audience": {"kind": "all"}, "variables": MAPPING,
            **extra}


async def post(shop: Shop, path: str, json: dict[str, Any] | None = None, **headers: str) -> Any:
    return await shop.client.post(path, json=json or {}, headers={**shop.org.auth, **headers})


async def broadcasts_in_db(shop: Shop) -> int:
    async with shop.runtime.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Broadcast)) or 0)


async def test_draft_lifecycle_create_read_list_patch_delete(shop: Shop) -> None:
    template_id = await marketing_template(shop)
    await add_contacts(shop, 3)
    await add_contacts(shop, 1, start=50, opted_out_at=shop.clock.now())
    created = await post(shop, "/v1/broadcasts", body(template_id))
    assert created.status_code == 201, created.text
    draft = created.json()
    assert (draft["status"], draft["funnel"], draft["phone_number_id"]) == ("draft", None, shop.number.id)
    assert draft["breakdown"]["eligible"] == 3 and draft["breakdown"]["opted_out"] == 1
    assert draft["breakdown"]["estimate_rupees"].startswith("₹")

    got = await shop.client.get(f"/v1/broadcasts/{draft['id']}", headers=shop.org.auth)
    assert got.status_code == 200 and got.json()["name"] == "Diwali offer"
    patched = await shop.client.patch(f"/v1/broadcasts/{draft['id']}", headers=shop.org.auth,
                                      json={"name": "Diwali offer, again", "retry_days_131049": 0})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["name"], patched.json()["retry_days_131049"]) == ("Diwali offer, again", 0)
    assert patched.json()["template_id"] == template_id  # what the patch left out stays

    second = (await post(shop, "/v1/broadcasts", body(template_id, name="Second"))).json()
    first_page = (await shop.client.get("/v1/broadcasts", params={"limit": 1}, headers=shop.org.auth)).json()
    assert [b["id"] for b in first_page["data"]] == [second["id"]] and first_page["next_cursor"]
    rest = (await shop.client.get("/v1/broadcasts", params={"limit": 1, "cursor": first_page["next_cursor"]},
                                  headers=shop.org.auth)).json()
    assert [b["id"] for b in rest["data"]] == [draft["id"]] and rest["next_cursor"] is None

    breakdown = await shop.client.get(f"/v1/broadcasts/{draft['id']}/breakdown", headers=shop.org.auth)
    assert breakdown.status_code == 200 and breakdown.json()["total"] == 4
    deleted = await shop.client.delete(f"/v1/broadcasts/{draft['id']}", headers=shop.org.auth)
    assert deleted.status_code == 204
    assert (await shop.client.get(f"/v1/broadcasts/{draft['id']}", headers=shop.org.auth)).status_code == 404


async def test_preview_fills_the_variables_for_one_contact(shop: Shop) -> None:
    template_id = await marketing_template(shop)
    [asha] = await add_contacts(shop, 1)
    draft = (await post(shop, "/v1/broadcasts", body(template_id))).json()
    preview = await post(shop, f"/v1/broadcasts/{draft['id']}/preview", {"contact_id": asha})
    assert preview.status_code == 200, preview.text
    assert preview.json()["contact"]["id"] == asha
    assert preview.json()["body"] == "Hi Customer, 20% off all teas this Diwali!"
    missing = await post(shop, f"/v1/broadcasts/{draft['id']}/preview", {"contact_id": 2**40})
    assert missing.status_code == 404


async def test_send_now_then_funnel_recipients_outcome_segment(shop: Shop) -> None:
    template_id = await marketing_template(shop)
    await add_contacts(shop, 5)
    await add_contacts(shop, 1, start=60, blocked_at=shop.clock.now())
    launched = await post(shop, "/v1/broadcasts", body(template_id, launch={"at": None}))
    assert launched.status_code == 201, launched.text
    broadcast_id = launched.json()["id"]
    assert launched.json()["status"] == "sending"
    assert (await run_until_done(shop, broadcast_id)).status == "completed"
    for _ in range(3):
        await shop.settle(seconds=2)

    got = (await shop.client.get(f"/v1/broadcasts/{broadcast_id}", headers=shop.org.auth)).json()
    funnel = got["funnel"]
    assert (funnel["total"], funnel["sent"], funnel["skipped"], funnel["failed"]) == (6, 5, 1, 0)
    assert funnel["delivered"] == 5 and funnel["skipped_by_reason"] == {"Blocked": 1}

    page = (await shop.client.get(f"/v1/broadcasts/{broadcast_id}/recipients", params={"limit": 4},
                                  headers=shop.org.auth)).json()
    assert len(page["data"]) == 4 and page["next_cursor"]
    rest = (await shop.client.get(f"/v1/broadcasts/{broadcast_id}/recipients",
                                  params={"limit": 4, "after": page["next_cursor"]}, headers=shop.org.auth)).json()
    assert len(rest["data"]) == 2 and rest["next_cursor"] is None
    skipped = (await shop.client.get(f"/v1/broadcasts/{broadcast_id}/recipients", params={"state": "skipped"},
                                     headers=shop.org.auth)).json()["data"]
    assert [(r["wa_id"], r["reason"]) for r in skipped] == [(number(60), "blocked")]
    bad_state = await shop.client.get(f"/v1/broadcasts/{broadcast_id}/recipients", params={"state": "opened"},
                                      headers=shop.org.auth)
    assert bad_state.status_code == 422

    segment = await post(shop, f"/v1/broadcasts/{broadcast_id}/segments", {"outcome": "delivered",
                                                                           "name": "Got the Diwali offer"})
    assert segment.status_code == 201, segment.text
    assert segment.json()["contact_count"] == 5
    again = await post(shop, f"/v1/broadcasts/{broadcast_id}/segments", {"outcome": "read",
                                                                         "name": "got the diwali offer"})
    assert again.status_code == 409  # the name is taken

    nothing_failed = await post(shop, f"/v1/broadcasts/{broadcast_id}/resend-failed")
    assert nothing_failed.status_code == 409 and nothing_failed.json()["error"]["code"] == "nothing_failed"
    not_a_draft = await shop.client.patch(f"/v1/broadcasts/{broadcast_id}", json={"name": "x"}, headers=shop.org.auth)
    assert not_a_draft.status_code == 409
    undeletable = await shop.client.delete(f"/v1/broadcasts/{broadcast_id}", headers=shop.org.auth)
    assert undeletable.status_code == 409


async def test_schedule_pause_resume_cancel(shop: Shop) -> None:
    template_id = await marketing_template(shop)
    await add_contacts(shop, 2)
    draft = (await post(shop, "/v1/broadcasts", body(template_id))).json()
    past = (shop.clock.now() - timedelta(minutes=1)).isoformat()
    refused = await post(shop, f"/v1/broadcasts/{draft['id']}/launch", {"scheduled_at": past})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "schedule_in_past"
    naive = await post(shop, f"/v1/broadcasts/{draft['id']}/launch", {"scheduled_at": "2030-01-01T10:00:00"})
    assert naive.status_code == 422  # a time without its offset is ambiguous
    at = (shop.clock.now() + timedelta(hours=2)).astimezone().isoformat()
    scheduled = await post(shop, f"/v1/broadcasts/{draft['id']}/launch", {"scheduled_at": at})
    assert scheduled.status_code == 200, scheduled.text
    assert scheduled.json()["status"] == "scheduled" and scheduled.json()["scheduled_at"]
    paused = await post(shop, f"/v1/broadcasts/{draft['id']}/pause")
    assert paused.status_code == 200 and paused.json()["status"] == "paused" and paused.json()["notice"]
    resumed = await post(shop, f"/v1/broadcasts/{draft['id']}/resume")
    assert resumed.status_code == 200 and resumed.json()["status"] == "scheduled"
    cancelled = await post(shop, f"/v1/broadcasts/{draft['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    twice = await post(shop, f"/v1/broadcasts/{draft['id']}/cancel")
    assert twice.status_code == 409
    assert (await post(shop, f"/v1/broadcasts/{draft['id']}/resume")).status_code == 409


async def test_bad_input_is_refused_and_writes_nothing(shop: Shop) -> None:
    template_id = await marketing_template(shop)
    await add_contacts(shop, 1, opted_out_at=shop.clock.now())
    cases: list[tuple[dict[str, Any], int, str | None]] = [
        (body(template_id, audience={"kind": "segment", "segment_id": 999_999}), 404, "segment_not_found"),
        (body(999_999), 404, "template_not_found"),
        (body(template_id, variables={"values": {}}), 422, "template_variable_unmapped"),
        (body(template_id, audience={"kind": "everyone"}), 422, None),
        (body(template_id, audience={"kind": "list", "numbers": []}), 422, None),
        (body(template_id, name=""), 422, None),
        (body(template_id, phone_number_id=999_999), 404, "phone_number_not_found"),
        (body(template_id, launch={"at": None}), 422, "empty_audience"),  # the one contact opted out
        (body(template_id, launch={"at": "2020-01-01T00:00:00+05:30"}), 422, "schedule_in_past"),
    ]
    for request, status, code in cases:
        response = await post(shop, "/v1/broadcasts", request)
        assert response.status_code == status, (request, response.text)
        if code:
            assert response.json()["error"]["code"] == code, response.text
    assert await broadcasts_in_db(shop) == 0


async def test_a_template_not_approved_cannot_be_launched(shop: Shop) -> None:
    await add_contacts(shop, 2)
    submitted = await shop.client.post("/v1/templates", headers=shop.org.auth, json={
        "name": "pending_offer", "language": "en", "category": "UTILITY",
        "components": [{"type": "BODY", "text": "Your order is ready for pickup today."}]})
    assert submitted.status_code == 201, submitted.text  # in review: the sandbox's delay has not passed
    draft = await post(shop, "/v1/broadcasts", {"name": "Pickup", "template_id": submitted.json()["id"],
                                                "audience": {"kind": "all"}})
    assert draft.status_code == 201, draft.text
    launch = await post(shop, f"/v1/broadcasts/{draft.json()['id']}/launch")
    assert launch.status_code == 409 and launch.json()["error"]["code"] == "template_not_approved"


async def test_idempotency_key_creates_and_launches_once(shop: Shop) -> None:
    template_id = await marketing_template(shop)
    await add_contacts(shop, 2)
    first = await post(shop, "/v1/broadcasts", body(template_id, launch={"at": None}), **{"Idempotency-Key": "b-1"})
    again = await post(shop, "/v1/broadcasts", body(template_id, launch={"at": None}), **{"Idempotency-Key": "b-1"})
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert await broadcasts_in_db(shop) == 1


async def test_resend_failed_creates_a_draft_for_the_failed(shop: Shop) -> None:
    template_id = await marketing_template(shop)
    await add_contacts(shop, 3)
    async with unit_of_work(shop.runtime) as uow:  # WhatsApp can't deliver to one of them (a failed webhook)
        await sandbox.update_profile(uow, {"failures": [{"code": 131026, "recipient": number(1)}]})
    launched = (await post(shop, "/v1/broadcasts", body(template_id, launch={"at": None}))).json()
    await run_until_done(shop, launched["id"])
    for _ in range(3):
        await shop.settle(seconds=2)
    funnel = (await shop.client.get(f"/v1/broadcasts/{launched['id']}", headers=shop.org.auth)).json()["funnel"]
    assert funnel["failed"] == 1 and list(funnel["failed_by_reason"]) == ["131026 · Message undeliverable"], funnel
    failed = (await shop.client.get(f"/v1/broadcasts/{launched['id']}/recipients", params={"state": "failed"},
                                    headers=shop.org.auth)).json()["data"]
    assert [(r["wa_id"], r["error_code"]) for r in failed] == [(number(1), 131026)]

    resend = await post(shop, f"/v1/broadcasts/{launched['id']}/resend-failed")
    assert resend.status_code == 201, resend.text
    assert resend.json()["status"] == "draft"
    assert resend.json()["audience"] == {"kind": "outcome", "broadcast_id": launched["id"], "outcome": "failed"}
    assert resend.json()["breakdown"]["eligible"] == 1
    segment = await post(shop, f"/v1/broadcasts/{launched['id']}/segments", {"outcome": "failed", "name": "Unreached"})
    assert segment.status_code == 201 and segment.json()["contact_count"] == 1, segment.text
