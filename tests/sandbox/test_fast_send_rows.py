"""The send fast path (cached checks + group commit, softdukan/sandbox/graph/messages/fast_*.py) writes what
`send_message` writes: the same customer, thread, SandboxMessage and status-job rows, column by column; it answers
the same body; sends it does not take (or would refuse before the bucket) still get send_message's exact errors;
and an in-process write (here a template paused by the control API) is seen by the very next send."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from softdukan.platform.jobs.models import Job
from softdukan.platform.uow import unit_of_work
from softdukan.sandbox import service
from softdukan.sandbox.app import create_sandbox_app
from softdukan.sandbox.graph import counters
from softdukan.sandbox.graph.messages.send import send_message
from softdukan.sandbox.models import SandboxCustomer, SandboxMessage, SandboxPhoneNumber, SandboxThread

BODY = "Hi {{1}}, 20% off chai this week."


def _template_send(to: str, **extra: Any) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "to": to, "type": "template", **extra,
            "template": {"name": "chai_offer", "language": {"code": "en"},
                         "components": [{"type": "body", "parameters": [{"type": "text", "text": "Asha"}]}]}}


def _columns(row: Any, skip: set[str]) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns if c.key not in skip}


async def _rows(runtime: Any, wa_id: str) -> dict[str, Any]:
    async with runtime.sessionmaker() as session:
        message = (await session.execute(select(SandboxMessage).where(SandboxMessage.wa_id == wa_id))).scalar_one()
        thread = (await session.execute(select(SandboxThread).where(SandboxThread.wa_id == wa_id))).scalar_one()
        customer = (await session.execute(select(SandboxCustomer).where(SandboxCustomer.wa_id == wa_id))).scalar_one()
        jobs = [job for job in (await session.execute(select(Job).where(Job.name == "sandbox.message_status")))
                .scalars() if job.args.get("message_id") == message.id]
    assert len(jobs) == 1
    job = jobs[0]
    message_columns = _columns(message, {"id", "wamid", "wa_id", "created_at", "payload", "conversation"})
    payload = {k: v for k, v in message.payload.items() if k != "to"}
    return {
        "message": message_columns, "payload": payload,
        "conversation": {k: v for k, v in (message.conversation or {}).items() if k not in ("id", "expires")},
        "thread": _columns(thread, {"id", "wa_id", "created_at"}),
        "customer": _columns(customer, {"id", "wa_id", "name", "created_at"}) | {"name": customer.name[:9]},
        "job": _columns(job, {"id", "args", "run_at", "created_at"}) | {"status_arg": job.args["status"],
                                                                         "delay": job.run_at - message.created_at},
    }


async def test_fast_path_writes_the_rows_send_message_writes(settings, runtime) -> None:
    async with unit_of_work(runtime) as uow:
        await service.update_profile(uow, {"sent_after_seconds": 30.0, "template_review_delay_seconds": 0.0})
        account = await service.provision(uow, app_id="77", app_secret="app-secret-77", callback_url=None,
                                          verify_token=None, business_name="Chai Point", verified_name="Chai Point")
    app = create_sandbox_app(settings, runtime=runtime, background=False)
    auth = {"Authorization": f"Bearer {account['access_token']}"}
    graph = f"/sandbox/graph/v24.0/{account['phone_number_id']}/messages"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as http:
        made = await http.post(f"/sandbox/graph/v24.0/{account['waba_id']}/message_templates", headers=auth, json={
            "name": "chai_offer", "language": "en", "category": "MARKETING",
            "components": [{"type": "BODY", "text": BODY, "example": {"body_text": [["Asha"]]}}]})
        assert made.status_code == 200, made.text
        approved = await http.post(f"/sandbox/graph/_sandbox/templates/{made.json()['id']}/status",
                                   json={"status": "APPROVED"})
        assert approved.status_code == 200, approved.text

        # the reference: send_message in its own unit of work
        async with unit_of_work(runtime) as uow:
            phone = (await uow.session.execute(select(SandboxPhoneNumber).where(
                SandboxPhoneNumber.phone_number_id == account["phone_number_id"]))).scalar_one()
            slow = await send_message(uow, phone, _template_send("919800000001", biz_opaque_callback_data="m-1"))

        before = counters.snapshot()["fast_path"]["sends"]
        response = await http.post(graph, headers=auth, json=_template_send("919800000002",
                                                                            biz_opaque_callback_data="m-1"))
        assert response.status_code == 200, response.text
        assert counters.snapshot()["fast_path"]["sends"] == before + 1  # it took the fast path
        fast = response.json()
        assert fast["messages"][0]["id"].startswith("wamid.") and fast["messages"][0]["message_status"] == "accepted"
        assert {**fast, "contacts": [], "messages": []} == {**slow, "contacts": [], "messages": []}
        assert fast["contacts"] == [{"input": "919800000002", "wa_id": "919800000002"}]

        assert await _rows(runtime, "919800000002") == await _rows(runtime, "919800000001")

        # a send the fast path must not answer gets send_message's error (template unknown: 132001)
        unknown = _template_send("919800000003")
        unknown["template"]["name"] = "no_such_template"
        refused = await http.post(graph, headers=auth, json=unknown)
        assert refused.status_code == 404 or refused.json()["error"]["code"] == 132001, refused.text

        # a write in this process is seen at once: the template paused → 132015, not a cached approval
        paused = await http.post(f"/sandbox/graph/_sandbox/templates/{made.json()['id']}/status",
                                 json={"status": "PAUSED"})
        assert paused.status_code == 200, paused.text
        after_pause = await http.post(graph, headers=auth, json=_template_send("919800000004"))
        assert after_pause.json()["error"]["code"] == 132015, after_pause.text

        # the bucket stays exact on the fast path: burst = limit, then 130429
        await http.post(f"/sandbox/graph/_sandbox/templates/{made.json()['id']}/status", json={"status": "APPROVED"})
        await http.put("/sandbox/graph/_sandbox/profile", json={"throughput_mps": 3})
        await runtime.limiter.reset(f"sandbox:throughput:{account['phone_number_id']}")
        answers = [await http.post(graph, headers=auth, json=_template_send(f"91980000010{i}")) for i in range(5)]
        assert [a.status_code for a in answers].count(200) == 3
        assert [a.json()["error"]["code"] for a in answers if a.status_code != 200] == [130429, 130429]
