"""Document numbers: gapless and unique under concurrent issues (separate transactions), none burned by a rolled
back issue, a new series each financial year (India's 1 April), at most 16 characters of A–Z 0–9 / -."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC

import pytest
from sqlalchemy import select

from softdukan.billing.models import INVOICE, BillingDocument, DocumentSeries
from softdukan.billing.numbering import capacity, financial_year, format_number, series_prefix
from softdukan.kit.clock import FrozenClock
from softdukan.platform.errors import Conflict
from softdukan.platform.uow import unit_of_work
from tests.billing.support import issue, ist
from tests.support.factories import make_org

NUMBER = re.compile(r"[A-Z0-9/-]{1,16}")


async def _numbers(runtime) -> list[str]:  # type: ignore[no-untyped-def]
    async with runtime.sessionmaker() as session:
        rows = await session.execute(select(BillingDocument.number).order_by(BillingDocument.id))
        return [n for (n,) in rows]


async def test_100_concurrent_issues_get_1_to_100_without_gap_or_duplicate(runtime) -> None:  # type: ignore[no-untyped-def]
    runtime.clock = FrozenClock(ist(2026, 7, 1, 12, 0))
    orgs = [await make_org(runtime) for _ in range(3)]
    documents = await asyncio.gather(*(issue(runtime, orgs[i % 3], f"topup-{i}") for i in range(100)))
    values = sorted(int(d.number.rsplit("/", 1)[1]) for d in documents if d.number)
    assert values == list(range(1, 101))
    assert {d.number for d in documents} == {f"SD/2627/{n:06d}" for n in range(1, 101)}
    async with runtime.sessionmaker() as session:
        series = (await session.execute(select(DocumentSeries))).scalars().all()
    assert [(s.fy, s.doc_type, s.next_value) for s in series] == [("2026-27", INVOICE, 101)]


async def test_a_rolled_back_issue_burns_no_number(runtime) -> None:  # type: ignore[no-untyped-def]
    runtime.clock = FrozenClock(ist(2026, 7, 1, 12, 0))
    org = await make_org(runtime)
    assert (await issue(runtime, org, "t1")).number == "SD/2627/000001"
    with pytest.raises(RuntimeError):
        async with unit_of_work(runtime) as uow:
            from softdukan.billing.service import LineIn, billing_service

            doomed = await billing_service.issue_invoice(uow, org.org.id, lines=[LineIn("Recharge", 500)],
                                                         source="wallet_recharge", source_id="t2", paid=True)
            assert doomed.number == "SD/2627/000002"  # taken inside the transaction …
            raise RuntimeError("the recharge's crediting failed after the invoice")
    assert (await issue(runtime, org, "t3")).number == "SD/2627/000002"  # … and given back by the rollback
    assert (await issue(runtime, org, "t2")).number == "SD/2627/000003"  # the retried source gets the next one
    assert await _numbers(runtime) == ["SD/2627/000001", "SD/2627/000002", "SD/2627/000003"]


async def test_the_same_source_gets_one_invoice_and_one_number(runtime) -> None:  # type: ignore[no-untyped-def]
    runtime.clock = FrozenClock(ist(2026, 7, 1, 12, 0))
    org = await make_org(runtime)
    first = await issue(runtime, org, "pay_1")
    again = await asyncio.gather(*(issue(runtime, org, "pay_1") for _ in range(5)))
    assert {d.id for d in again} == {first.id}
    assert (await issue(runtime, org, "pay_2")).number == "SD/2627/000002"
    other = await make_org(runtime)
    with pytest.raises(Conflict) as taken:
        await issue(runtime, other, "pay_1")
    assert taken.value.code == "billing_source_reused"


async def test_31_march_to_1_april_in_india_starts_a_new_series(runtime) -> None:  # type: ignore[no-untyped-def]
    clock = FrozenClock(ist(2027, 3, 31, 23, 59, 59).astimezone(UTC))  # the product's clock runs in UTC
    runtime.clock = clock
    org = await make_org(runtime)
    march = [await issue(runtime, org, f"m{i}") for i in range(2)]
    clock.advance(seconds=1)  # 1 April 2027 00:00:00 IST = 31 March 18:30 UTC
    assert clock.now().month == 3  # still March in UTC: the year follows India's calendar
    april = await issue(runtime, org, "a1")
    assert [(d.fy, d.number) for d in [*march, april]] == [
        ("2026-27", "SD/2627/000001"), ("2026-27", "SD/2627/000002"), ("2027-28", "SD/2728/000001")]


def test_financial_year_boundaries() -> None:
    assert financial_year(ist(2026, 4, 1, 0, 0)) == "2026-27"
    assert financial_year(ist(2027, 3, 31, 23, 59, 59)) == "2026-27"
    assert financial_year(ist(2099, 12, 31, 23, 59)) == "2099-00"
    assert series_prefix("invoice", "2099-00") == "SD/9900/"


@pytest.mark.parametrize(("doc_type", "first", "last"), [("invoice", "SD/2627/000001", "SD/2627/99999999"),
                                                         ("credit_note", "SDCN/2627/00001", "SDCN/2627/999999")])
def test_numbers_fit_16_characters_up_to_the_series_capacity(doc_type: str, first: str, last: str) -> None:
    prefix = series_prefix(doc_type, "2026-27")
    top = capacity(prefix)
    samples = [format_number(prefix, doc_type, v) for v in (1, 12, 123, 99_999, 100_000, 999_999, top)]
    assert samples[0] == first and samples[-1] == last
    assert all(NUMBER.fullmatch(n) for n in samples)
    assert max(len(n) for n in samples) == 16
    with pytest.raises(Conflict) as full:
        format_number(prefix, doc_type, top + 1)
    assert full.value.code == "document_series_full"


async def test_a_source_claimed_meanwhile_is_found_not_inserted_twice(runtime) -> None:  # type: ignore[no-untyped-def]
    """The path a concurrent issue for the same source takes on PostgreSQL (on SQLite the lock serializes them)."""
    from softdukan.billing.repository import BillingDocumentRepository

    org = await make_org(runtime)
    first = await issue(runtime, org, "pay_9")
    row = {c.name: getattr(first, c.key) for c in BillingDocument.__table__.columns if c.name != "id"}
    async with unit_of_work(runtime) as uow:
        assert await BillingDocumentRepository(uow.session).claim_source({**row, "number": None}) is None
    assert await _numbers(runtime) == [first.number]
