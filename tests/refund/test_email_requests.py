"""Policy clause 7, by e-mail: a request e-mailed to support is recorded the same way — from the `.eml` file (in the
backoffice or with `softdukan refunds ingest`) or typed in by staff — when it names the payment and its sender is a
member of the organization that paid; otherwise nothing is stored and the reason says why."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import func, select

from softdukan.refund.email_intake import ingest_files
from softdukan.refund.models import RefundRequest
from tests.refund.helpers import REASON, paid_recharge, verified_issue
from tests.support_tickets.helpers import csrf_from, make_staff, staff_session


def eml(sender: str, subject: str, body: str) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, "support@softdukan.com", subject
    message.set_content(body)
    return bytes(message)


async def _stored(runtime) -> list[RefundRequest]:  # type: ignore[no-untyped-def]
    async with runtime.sessionmaker() as session:
        return list((await session.execute(select(RefundRequest).order_by(RefundRequest.id))).scalars())


async def test_clause_7_requests_by_email_are_recorded_the_same_way(client, runtime, settings, app, drain_jobs,
                                                                    shop) -> None:
    topup = await paid_recharge(client, runtime, shop, drain_jobs)
    await make_staff(settings)
    pay = topup.razorpay_payment_id
    reply = (f"Hello support,\n\n{REASON}\n\n-- \nAsha, Refund Shop\n\n> On Mon, you wrote:\n> pay_quoted000001\n")
    async with staff_session(app) as staff:
        page = await staff.get("/backoffice/refunds/record")
        token = csrf_from(page.text)
        for sender, subject, body, message in (
                (shop.owner.email, "Refund please", REASON, "names no payment id"),
                ("stranger@example.com", f"Refund {pay}", REASON, "is not a member of the organization"),
                (shop.owner.email, "Refund pay_nosuchpayment1", REASON, "No payment or invoice")):
            refused = await staff.post("/backoffice/refunds/record-eml", data={"csrf_token": token},
                                       files={"eml": ("request.eml", eml(sender, subject, body), "message/rfc822")})
            assert refused.status_code in (404, 422) and message in refused.text, refused.text[-600:]
        assert await _stored(runtime) == []

        recorded = await staff.post("/backoffice/refunds/record-eml", data={"csrf_token": token}, files={
            "eml": ("request.eml", eml(f"Asha <{shop.owner.email.upper()}>", f"Refund for {pay}", reply),
                    "message/rfc822")})
        assert recorded.status_code == 303, recorded.text[-600:]
    [request] = await _stored(runtime)
    assert (request.channel, request.submitted_by, request.payment_id) == ("email", shop.owner.email, pay)
    assert (request.state, request.clause) == ("rejected", "3")  # weighed as any other: no verified issue
    assert REASON in request.reason and "quoted" not in request.reason and "Asha, Refund Shop" not in request.reason
    seen = (await client.get(f"/v1/refund-requests/{request.id}", headers=shop.auth)).json()
    assert seen["events"][0]["actor"] == f"{shop.owner.email} by e-mail, recorded by Sam Staff"


async def test_staff_type_in_an_emailed_request_and_the_command_reads_eml_files(client, runtime, settings, app,
                                                                                drain_jobs, shop,
                                                                                tmp_path: Path) -> None:
    topup = await paid_recharge(client, runtime, shop, drain_jobs)
    await verified_issue(runtime, settings, shop)
    await make_staff(settings, email="kim@staff.example.com", name="Kim Staff")
    async with staff_session(app, "kim@staff.example.com") as staff:
        page = await staff.get("/backoffice/refunds/record")
        form = {"organization_id": str(shop.org.id), "requester_email": shop.owner.email,
                "transaction_ref": topup.razorpay_payment_id, "reason": "too short",
                "csrf_token": csrf_from(page.text)}
        short = await staff.post("/backoffice/refunds/record", data=form)
        assert short.status_code == 422 and "at least 20 characters" in short.text and "too short" in short.text
        typed = await staff.post("/backoffice/refunds/record", data={**form, "reason": REASON})
        assert typed.status_code == 303, typed.text[-600:]
    [request] = await _stored(runtime)
    assert (request.channel, request.state, request.clause) == ("email", "under_review", "4")

    good, bad = tmp_path / "good.eml", tmp_path / "bad.eml"
    good.write_bytes(eml(shop.owner.email, "Refund", f"{REASON} Payment {topup.razorpay_payment_id}."))
    bad.write_bytes(eml("stranger@example.com", "Refund", f"{REASON} Payment {topup.razorpay_payment_id}."))
    lines = await ingest_files(settings, [good, bad, tmp_path / "missing.eml"])
    assert "is still open" in lines[0]  # one open request per payment, whichever way it came
    assert "not a member" in lines[1] and "not recorded" in lines[2]
    async with runtime.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(RefundRequest)) == 1
