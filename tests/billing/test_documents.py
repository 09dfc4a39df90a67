"""Invoices and credit notes: who they are made out to (profile or not), intra/inter-state tax, snapshots that
never change, credit notes bounded by the invoice in their own series, the printable page with the Rule 46
particulars, the PDF, and another organization's documents answering 404."""

from __future__ import annotations

import pytest

from softdukan.billing.models import PAID
from softdukan.billing.service import billing_service
from softdukan.kit.clock import FrozenClock
from softdukan.platform.errors import Conflict, Invalid
from softdukan.platform.uow import unit_of_work
from tests.billing.support import MAHARASHTRA_GSTIN, issue, ist, save_profile
from tests.support.factories import browser_sign_in, make_org


@pytest.fixture(autouse=True)
def _july(runtime) -> None:  # type: ignore[no-untyped-def]
    runtime.clock = FrozenClock(ist(2026, 7, 15, 10, 30))


async def _credit(runtime, invoice, source_id: str, taxable: int | None, reason: str = "Service outage"):  # type: ignore[no-untyped-def]
    async with unit_of_work(runtime) as uow:
        return await billing_service.issue_credit_note(uow, invoice, taxable_paise=taxable, reason=reason,
                                                       source="refund", source_id=source_id)


async def test_without_a_profile_the_invoice_goes_to_the_organization_in_the_suppliers_state(runtime) -> None:  # type: ignore[no-untyped-def]
    org = await make_org(runtime, "Chai Point Stores")
    invoice = await issue(runtime, org, "t1", taxable=10_003)
    assert (invoice.buyer_name, invoice.buyer_gstin, invoice.buyer_address) == ("Chai Point Stores", None, "")
    assert (invoice.place_of_supply, invoice.supply_type) == ("29", "intra")
    assert (invoice.cgst_paise, invoice.sgst_paise, invoice.igst_paise, invoice.total_paise) == (900, 900, 0, 11803)
    assert invoice.status == PAID and invoice.fy == "2026-27"
    elsewhere = await issue(runtime, org, "t2", taxable=10_003, buyer_state="07")  # the caller knows the state
    assert (elsewhere.place_of_supply, elsewhere.supply_type, elsewhere.igst_paise) == ("07", "inter", 1801)


async def test_the_profile_is_copied_onto_the_invoice_and_later_edits_leave_it(runtime) -> None:  # type: ignore[no-untyped-def]
    org = await make_org(runtime)
    await save_profile(runtime, org)
    invoice = await issue(runtime, org, "t1", taxable=50_000)
    assert (invoice.buyer_name, invoice.buyer_gstin, invoice.buyer_state) == ("Pune Tea Traders LLP",
                                                                              MAHARASHTRA_GSTIN, "27")
    assert invoice.buyer_address == "14 FC Road\nPune 411004"  # the state is shown with its code beside it
    assert (invoice.supply_type, invoice.igst_paise, invoice.cgst_paise, invoice.total_paise) == ("inter", 9000, 0,
                                                                                                 59_000)
    await save_profile(runtime, org, legal_name="Renamed Traders", state_code="29", gstin=None)
    async with unit_of_work(runtime) as uow:
        again = await billing_service.get(uow, org.subject, invoice.id)
    assert (again.buyer_name, again.buyer_gstin, again.igst_paise) == ("Pune Tea Traders LLP", MAHARASHTRA_GSTIN,
                                                                       9000)


async def test_credit_notes_have_their_own_series_and_never_exceed_the_invoice(runtime) -> None:  # type: ignore[no-untyped-def]
    org = await make_org(runtime)
    invoice = await issue(runtime, org, "t1", taxable=10_003)  # 900 + 900
    first = await _credit(runtime, invoice, "r1", 3_334)
    assert (first.number, first.doc_type, first.original_id) == ("SDCN/2627/00001", "credit_note", invoice.id)
    assert (first.taxable_paise, first.cgst_paise, first.sgst_paise, first.total_paise) == (3_334, 300, 300, 3_934)
    with pytest.raises(Invalid) as too_much:
        await _credit(runtime, invoice, "r2", 6_670)
    assert too_much.value.code == "credit_exceeds_invoice" and "6669" in too_much.value.message
    rest = await _credit(runtime, invoice, "r3", None)  # the full remainder, exact tax
    assert (rest.number, rest.taxable_paise, rest.cgst_paise, rest.sgst_paise) == ("SDCN/2627/00002", 6_669, 600,
                                                                                   600)
    assert first.total_paise + rest.total_paise == invoice.total_paise
    with pytest.raises(Conflict) as done:
        await _credit(runtime, invoice, "r4", None)
    assert done.value.code == "invoice_fully_credited"
    assert (await _credit(runtime, invoice, "r1", 3_334)).id == first.id  # the same refund: the same note
    assert (await issue(runtime, org, "t2")).number == "SD/2627/000002"  # invoices' series untouched


async def test_concurrent_credit_notes_never_credit_more_than_the_invoice(runtime) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    org = await make_org(runtime)
    invoice = await issue(runtime, org, "t1", taxable=10_000)

    async def attempt(i: int) -> int:
        try:
            return (await _credit(runtime, invoice, f"r{i}", 3_000)).taxable_paise
        except Invalid:
            return 0

    credited = await asyncio.gather(*(attempt(i) for i in range(6)))
    assert sorted(credited) == [0, 0, 0, 3_000, 3_000, 3_000]


async def test_the_printable_page_shows_every_rule_46_particular(client, runtime) -> None:  # type: ignore[no-untyped-def]
    org = await make_org(runtime)
    await save_profile(runtime, org)
    invoice = await issue(runtime, org, "t1", taxable=10_003)
    await browser_sign_in(client, org.owner.email)
    page = await client.get(f"/billing/documents/{invoice.id}")
    assert page.status_code == 200
    for particular in ("Tax invoice", "SoftDukan Technologies Private Limited", "29AAHCS7719K1ZO",
                       "Residency Road", "Pune Tea Traders LLP", MAHARASHTRA_GSTIN, "14 FC Road",
                       "SD/2627/000001", "15 Jul 2026", "997331", "Wallet recharge", "100.03", "IGST", "18%",
                       "18.01", "118.04", "Maharashtra (27)", "Reverse charge", "Rupees One Hundred Eighteen and Four "
                       "Paise Only"):
        assert particular in page.text, particular
    listing = await client.get("/billing/documents")
    assert "SD/2627/000001" in listing.text and f"/billing/documents/{invoice.id}.pdf" in listing.text


async def test_pdf_downloads_from_the_dashboard_and_the_api(client, runtime) -> None:  # type: ignore[no-untyped-def]
    org = await make_org(runtime, "देसी चाय Stores")  # outside Latin-1: printed as "?" in the PDF, never a 500
    invoice = await issue(runtime, org, "t1")
    note = await _credit(runtime, invoice, "r1", 2_500, reason="Outage on 3 July — verified")
    api = await client.get(f"/v1/billing/documents/{invoice.id}/pdf", headers=org.auth)
    assert api.status_code == 200 and api.headers["content-type"] == "application/pdf"
    assert api.content.startswith(b"%PDF") and b"SD-2627-000001.pdf" in api.headers["content-disposition"].encode()
    await browser_sign_in(client, org.owner.email)
    for document in (invoice, note):
        page = await client.get(f"/billing/documents/{document.id}.pdf")
        assert page.status_code == 200 and page.headers["content-type"] == "application/pdf"
        assert page.content.startswith(b"%PDF")


async def test_documents_api_lists_and_shows_with_lines(client, runtime) -> None:  # type: ignore[no-untyped-def]
    org = await make_org(runtime)
    invoices = [await issue(runtime, org, f"t{i}", taxable=1_000 * (i + 1)) for i in range(3)]
    await _credit(runtime, invoices[0], "r1", None)
    listed = (await client.get("/v1/billing/documents?limit=2", headers=org.auth)).json()
    assert [d["number"] for d in listed["data"]] == ["SDCN/2627/00001", "SD/2627/000003"]
    more = (await client.get(f"/v1/billing/documents?cursor={listed['next_cursor']}", headers=org.auth)).json()
    assert [d["number"] for d in more["data"]] == ["SD/2627/000002", "SD/2627/000001"]
    only_notes = (await client.get("/v1/billing/documents?doc_type=credit_note", headers=org.auth)).json()
    assert [d["original_id"] for d in only_notes["data"]] == [invoices[0].id]
    one = (await client.get(f"/v1/billing/documents/{invoices[1].id}", headers=org.auth)).json()
    assert one["lines"] == [{"description": "Wallet recharge (WhatsApp conversation credits)", "sac": "997331",
                             "quantity": 1, "unit": None, "taxable_paise": 2_000, "rate_bp": 1800,
                             "cgst_paise": 180, "sgst_paise": 180, "igst_paise": 0}]
    assert (one["place_of_supply_name"], one["total_paise"]) == ("Karnataka", 2_360)


async def test_another_organizations_document_is_404(client, runtime) -> None:  # type: ignore[no-untyped-def]
    victim = await make_org(runtime, "Victim Tea Co")
    invoice = await issue(runtime, victim, "t1")
    attacker = await make_org(runtime, "Attacker Co")
    for path in (f"/v1/billing/documents/{invoice.id}", f"/v1/billing/documents/{invoice.id}/pdf"):
        response = await client.get(path, headers=attacker.auth)
        assert response.status_code == 404 and response.json()["error"]["code"] == "billing_document_not_found"
    assert (await client.get("/v1/billing/documents", headers=attacker.auth)).json()["data"] == []
    await browser_sign_in(client, attacker.owner.email)
    for path in (f"/billing/documents/{invoice.id}", f"/billing/documents/{invoice.id}.pdf"):
        response = await client.get(path)
        assert response.status_code == 404 and "Victim Tea Co" not in response.text
    assert (await client.get(f"/v1/billing/documents/{invoice.id}", headers=victim.auth)).status_code == 200


async def test_reading_needs_billing_read(client, runtime) -> None:  # type: ignore[no-untyped-def]
    org = await make_org(runtime, scopes=["contacts:read"])
    invoice = await issue(runtime, org, "t1")
    refused = await client.get(f"/v1/billing/documents/{invoice.id}", headers=org.auth)
    assert refused.status_code == 403 and refused.json()["error"]["details"]["required"] == "billing:read"
