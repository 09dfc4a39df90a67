"""Rate cards (issue 5 item 2): effective-dated per market, seeded from the reference, edited by staff in the
backoffice; overlaps and dates that are not quarter starts are refused and change nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from softdukan.platform.errors import Conflict, Invalid
from softdukan.platform.uow import unit_of_work
from softdukan.wallet import rates
from softdukan.wallet.markets import market_of
from softdukan.wallet.models import RateCard
from tests.backoffice.test_backoffice import staff_client, staff_post  # noqa: F401  (fixture)

RATES = {"marketing": 9000, "utility": 1200, "authentication": 1200, "authentication_international": 25000,
         "service": 0}


@pytest.mark.parametrize(("wa_id", "market"), [("919812345678", "IN"), ("14155550123", "NA"),
                                               ("971501234567", "AE"), ("447700900123", "GB"),
                                               ("61412345678", "R_APAC"), ("2348012345678", "NG"), ("99", "OTHER")])
def test_a_number_prices_in_its_market(wa_id: str, market: str) -> None:
    assert market_of(wa_id) == market


async def test_prices_follow_the_card_in_force_on_the_day_plus_the_plan_markup(runtime) -> None:
    async with unit_of_work(runtime) as uow:
        before = await rates.price_table(uow.session, {"IN", "BR"}, on=date(2025, 12, 31), plan="basic",
                                         now=uow.clock.now())
        after = await rates.price_table(uow.session, {"IN"}, on=date(2026, 1, 1), plan="pro", now=uow.clock.now())
        assert before.charge_units("IN", "marketing") == 7846 + 1000
        assert after.charge_units("IN", "marketing") == 8631 + 500
        assert before.hold_units("IN", "AUTHENTICATION") == 24640 + 200  # the international rate may apply
        assert before.market_priced("BR") == "OTHER"  # no card for Brazil: priced as "Other"
        assert before.charge_units("BR", "marketing") == 53152 + 1000


async def test_a_new_quarter_card_closes_the_open_one_and_overlaps_are_refused(runtime) -> None:
    async with unit_of_work(runtime) as uow:
        await rates.seed(uow.session, uow.clock.now())
        card = await rates.add_card(uow.session, market="AE", effective_from=date(2026, 4, 1), effective_until=None,
                                    rates=RATES, note="Q2", created_by="staff", now=uow.clock.now())
        previous = await uow.session.scalar(select(RateCard).where(RateCard.market == "AE",
                                                                   RateCard.effective_from == date(2025, 7, 1)))
        assert previous is not None and previous.effective_until == date(2026, 4, 1) and card.id
    cases = [({"effective_from": date(2026, 1, 1), "effective_until": date(2026, 7, 1)}, Conflict,
              "overlapping_rate_card"),
             ({"effective_from": date(2026, 5, 1), "effective_until": None}, Invalid, "not_a_quarter_start"),
             ({"effective_from": date(2026, 10, 1), "effective_until": date(2026, 7, 1)}, Invalid, "invalid_dates"),
             ({"effective_from": date(2027, 1, 1), "effective_until": None, "market": "XX"}, Invalid,
              "unknown_market"),
             ({"effective_from": date(2027, 1, 1), "effective_until": None, "rates": {**RATES, "utility": -1}},
              Invalid, "invalid_rate")]
    for changes, error, code in cases:
        async with unit_of_work(runtime) as uow:
            count = await uow.session.scalar(select(func.count()).select_from(RateCard))
            with pytest.raises(error) as raised:
                await rates.add_card(uow.session, **{"market": "AE", "rates": RATES, "note": "", "created_by": "s",
                                                     "now": uow.clock.now(), **changes})
            assert raised.value.code == code
            await uow.rollback()
            assert await uow.session.scalar(select(func.count()).select_from(RateCard)) == count


async def test_staff_edit_rate_cards_and_markups_in_the_backoffice(staff_client, runtime) -> None:  # noqa: F811
    page = await staff_client.get("/backoffice/rates")
    assert page.status_code == 200 and "India" in page.text and "₹0.8631" in page.text
    form = {"market": "GB", "effective_from": "2026-07-01", "effective_until": "", "marketing": "0.05",
            "utility": "0.02", "authentication": "0.03", "authentication_international": "0.03", "service": "0",
            "note": "Q3 2026"}
    added = await staff_post(staff_client, "/backoffice/rates", form)
    assert added.status_code == 303, added.text
    overlap = await staff_post(staff_client, "/backoffice/rates", {**form, "effective_until": "2026-10-01"})
    assert overlap.status_code == 409 and "overlaps" in overlap.text
    bad = await staff_post(staff_client, "/backoffice/rates", {**form, "effective_from": "2027-01-01",
                                                                "marketing": "abc"})
    assert bad.status_code == 422 and "rupees" in bad.text
    markup = await staff_post(staff_client, "/backoffice/rates/markups", {"plan": "pro", "category": "marketing",
                                                                          "markup": "0.07"})
    assert markup.status_code == 303
    async with unit_of_work(runtime) as uow:
        table = await rates.price_table(uow.session, {"GB"}, on=date(2026, 8, 1), plan="pro", now=uow.clock.now())
        assert table.charge_units("GB", "marketing") == 500 + 700
    assert (await staff_client.get("/backoffice/rates")).text.count("Q3 2026") == 1


async def test_markups_follow_the_plan_catalogue(staff_client, runtime) -> None:  # noqa: F811
    """A plan staff add at /backoffice/plans gets markups; a code that is no plan is refused."""
    from softdukan.plan.service import save_plan

    async with unit_of_work(runtime) as uow:
        await save_plan(uow.session, code="growth", name="Growth", description="Between Pro and Enterprise",
                        yearly_price_paise=39_999_00, features=["broadcasts"], limits={}, active=True,
                        create=True, now=uow.clock.now())
    page = await staff_client.get("/backoffice/rates")
    assert '<option>growth</option>' in page.text
    unknown = await staff_post(staff_client, "/backoffice/rates/markups", {"plan": "platinum",
                                                                           "category": "marketing", "markup": "0.07"})
    assert unknown.status_code == 422 and "not a plan of the catalogue" in unknown.text
    added = await staff_post(staff_client, "/backoffice/rates/markups", {"plan": "growth", "category": "marketing",
                                                                         "markup": "0.04"})
    assert added.status_code == 303, added.text
