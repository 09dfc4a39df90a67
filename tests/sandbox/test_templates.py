"""Template management and template sends: creation checks, review webhooks, status and parameter errors."""

from __future__ import annotations

import pytest

from tests.sandbox.conftest import Sandbox, assert_meta_error, signature_ok

CUSTOMER = "919855556666"


async def _approved(sandbox: Sandbox, receiver, name: str, **kwargs) -> str:  # type: ignore[no-untyped-def]
    template_id = await sandbox.template(name, **kwargs)
    await receiver.wait(lambda: any(v["message_template_id"] == int(template_id) and v["event"] == "APPROVED"
                                    for v in receiver.changes("message_template_status_update")))
    return template_id


async def test_created_template_is_pending_then_approved_by_a_signed_webhook(sandbox: Sandbox, receiver) -> None:
    response = await sandbox.http.post(f"{sandbox.graph}/{sandbox.account['waba_id']}/message_templates",
                                       headers=sandbox.auth, json={
        "name": "order_ready", "language": "en_US", "category": "UTILITY",
        "components": [{"type": "BODY", "text": "Hi {{1}}, order {{2}} is ready.",
                        "example": {"body_text": [["Asha", "A-17"]]}}]})

    assert response.status_code == 200
    created = response.json()
    assert created["status"] == "PENDING" and created["category"] == "UTILITY"
    await receiver.wait(lambda: receiver.changes("message_template_status_update"))
    (update,) = receiver.changes("message_template_status_update")
    assert update == {"event": "APPROVED", "message_template_id": int(created["id"]),
                      "message_template_name": "order_ready", "message_template_language": "en_US",
                      "reason": "NONE", "message_template_category": "UTILITY"}
    assert receiver.bodies()[-1]["entry"][0]["time"] > 0
    assert all(signature_ok(raw, headers) for raw, headers in receiver.posts)
    got = await sandbox.http.get(f"{sandbox.graph}/{created['id']}", params={"fields": "status,name"},
                                 headers=sandbox.auth)
    assert got.json() == {"status": "APPROVED", "name": "order_ready", "id": created["id"]}


async def test_review_rules_reject_recategorize_and_pause(sandbox: Sandbox, receiver) -> None:
    await sandbox.profile(template_review_rules=[
        {"action": "reject", "name_contains": "spam", "reason": "PROMOTIONAL"},
        {"action": "recategorize", "name_contains": "sneaky", "category": "MARKETING"},
        {"action": "pause", "name_contains": "tired"}])
    rejected = await sandbox.template("spam_blast")
    moved = await sandbox.template("sneaky_offer")
    paused = await sandbox.template("tired_promo")

    await receiver.wait(lambda: len(receiver.changes("message_template_status_update")) >= 4
                        and receiver.changes("template_category_update"))
    events = {(v["message_template_id"], v["event"]) for v in receiver.changes("message_template_status_update")}
    assert {(int(rejected), "REJECTED"), (int(moved), "APPROVED"), (int(paused), "PAUSED")} <= events
    rejection = next(v for v in receiver.changes("message_template_status_update") if v["event"] == "REJECTED")
    assert rejection["reason"] == "PROMOTIONAL"
    (category,) = receiver.changes("template_category_update")
    assert category["previous_category"] == "UTILITY" and category["new_category"] == "MARKETING"


@pytest.mark.parametrize(("components", "subcode"), [
    ([{"type": "BODY", "text": "x" * 1025}], 2388040),
    ([{"type": "BODY", "text": "{{1}} is your code for today", "example": {"body_text": [["1"]]}}], 2388299),
    ([{"type": "BODY", "text": "Hi {{1}}{{2}} there friend", "example": {"body_text": [["a", "b"]]}}], 2388072),
    ([{"type": "BODY", "text": "Hi {{1}}, {{2}}, {{3}} ok", "example": {"body_text": [["a", "b", "c"]]}}], 2388293),
    ([{"type": "HEADER", "format": "SOUND"}, {"type": "BODY", "text": "Hello there"}], 2388047),
    ([{"type": "BODY", "text": "Hello there"}, {"type": "FOOTER", "text": "Bye {{1}} now"}], 2388073),
    ([{"type": "FOOTER", "text": "no body"}], 2388072),
])
async def test_creation_checks_answer_code_100_with_the_2388_subcode(sandbox: Sandbox, components, subcode) -> None:
    response = await sandbox.http.post(f"{sandbox.graph}/{sandbox.account['waba_id']}/message_templates",
                                       headers=sandbox.auth, json={"name": "bad_one", "language": "en_US",
                                                                   "category": "MARKETING", "components": components})

    error = assert_meta_error(response, 100, 400)
    assert error["error_subcode"] == subcode and error["error_user_msg"]


async def test_template_send_rules(sandbox: Sandbox, receiver) -> None:
    await _approved(sandbox, receiver, "order_ready")
    base = {"to": CUSTOMER, "type": "template"}

    def template(name: str, params: list[dict] | None = None, language: str = "en_US") -> dict:
        components = [{"type": "BODY", "parameters": params}] if params is not None else []
        return {**base, "template": {"name": name, "language": {"code": language, "policy": "deterministic"},
                                     "components": components}}

    missing = await sandbox.send(template("no_such_template", []))
    other_language = await sandbox.send(template("order_ready", [{"type": "text", "text": "A"}], "hi"))
    count = await sandbox.send(template("order_ready", []))
    named = await sandbox.send(template("order_ready", [{"type": "text", "text": "A", "parameter_name": "name"}]))
    good = await sandbox.send({**base, "template": {"name": "order_ready", "language": {"code": "en_US"},
                                                    "components": [{"type": "BODY", "parameters": [
                                                        {"type": "TEXT", "text": "Asha"}]}]}})

    assert_meta_error(missing, 132001, 404)
    assert_meta_error(other_language, 132001, 404)
    assert_meta_error(count, 132000, 400)
    assert_meta_error(named, 132012, 400)
    assert good.status_code == 200 and good.json()["messages"][0]["message_status"] == "accepted"
    wamid = good.json()["messages"][0]["id"]
    await receiver.wait(lambda: receiver.statuses(wamid))
    assert receiver.statuses(wamid)[0]["pricing"] == {"billable": True, "pricing_model": "PMP", "type": "regular",
                                                      "category": "utility"}


async def test_paused_and_disabled_templates(sandbox: Sandbox, receiver) -> None:
    paused = await _approved(sandbox, receiver, "paused_one", body_text="Hello there friend")
    disabled = await _approved(sandbox, receiver, "disabled_one", body_text="Hello there friend")
    for template_id, status in ((paused, "PAUSED"), (disabled, "DISABLED")):
        response = await sandbox.http.post(f"{sandbox.base}/_sandbox/templates/{template_id}/status",
                                           json={"status": status})
        assert response.status_code == 200

    def send(name: str):  # type: ignore[no-untyped-def]
        return sandbox.send({"to": CUSTOMER, "type": "template",
                             "template": {"name": name, "language": {"code": "en_US"}}})

    assert_meta_error(await send("paused_one"), 132015, 400)
    assert_meta_error(await send("disabled_one"), 132016, 400)


async def test_list_pages_edit_limits_and_delete(sandbox: Sandbox, receiver) -> None:
    ids = [await _approved(sandbox, receiver, f"promo_{i}", body_text="Hello there friend") for i in range(3)]
    url = f"{sandbox.graph}/{sandbox.account['waba_id']}/message_templates"

    first = (await sandbox.http.get(url, params={"limit": 2, "summary": "total_count"}, headers=sandbox.auth)).json()
    second = (await sandbox.http.get(url, params={"limit": 2, "after": first["paging"]["cursors"]["after"]},
                                     headers=sandbox.auth)).json()
    assert [t["id"] for t in first["data"] + second["data"]] == ids
    assert "next" in first["paging"] and "next" not in second["paging"]
    assert first["summary"]["total_count"] == 3 and first["data"][0]["parameter_format"] == "POSITIONAL"

    edit = {"components": [{"type": "BODY", "text": "Hello again friend"}]}
    assert (await sandbox.http.post(f"{sandbox.graph}/{ids[0]}", json=edit, headers=sandbox.auth)).status_code == 200
    await receiver.wait(lambda: sum(1 for v in receiver.changes("message_template_status_update")
                                    if v["message_template_id"] == int(ids[0])) == 2)
    assert_meta_error(await sandbox.http.post(f"{sandbox.graph}/{ids[0]}", json=edit, headers=sandbox.auth), 100, 400)

    deleted = await sandbox.http.delete(url, params={"name": "promo_1", "hsm_id": ids[1]}, headers=sandbox.auth)
    assert deleted.json() == {"success": True}
    gone = await sandbox.http.get(f"{sandbox.graph}/{ids[1]}", headers=sandbox.auth)
    assert_meta_error(gone, 100, 400)
