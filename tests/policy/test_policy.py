"""Policy documents: versions posted by staff take effect at once and are shown publicly with their history
(clause 8), the refund policy links the Terms and the Privacy Policy and every public page links all three
(clause 9), signed-in users see a change notice until they dismiss it, and posted versions never change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from softdukan.audit.models import AuditEvent
from softdukan.platform.errors import Conflict
from softdukan.platform.uow import unit_of_work
from softdukan.policy.models import PolicyVersion
from softdukan.policy.service import policy_service
from tests.backoffice.test_backoffice import new_client, staff_client, staff_post  # noqa: F401  (fixture)
from tests.support.factories import browser_sign_in, csrf_from, make_org

NEW_REFUND_TEXT = "## 1. Free trial\n\nThe trial now lasts **21 days**.\n\n- no card needed\n- cancel any time"
FOOTER_LINKS = ('href="/legal/terms"', 'href="/legal/privacy"', 'href="/legal/refund-policy"')


async def _post_refund_v2(staff_client, body: str = NEW_REFUND_TEXT):  # type: ignore[no-untyped-def]  # noqa: F811
    return await staff_post(staff_client, "/backoffice/policies/refund-policy", {
        "title": "Cancellation & Refund Policy", "body": body, "change_summary": "The trial is 21 days."})


async def test_clause_8_amendments_take_effect_at_once_and_decisions_record_the_version(
        app, runtime, client, staff_client) -> None:  # noqa: F811
    customer = await make_org(runtime, "Kirana Mart")
    await browser_sign_in(client, customer.owner.email)
    assert "policy-notice" not in (await client.get("/legal/notices")).text  # nothing new yet
    dashboard = await client.get("/")
    assert 'hx-get="/legal/notices"' in dashboard.text  # base.html loads the notice on every page

    async with new_client(app) as public:
        first = await public.get("/legal/refund-policy")
        assert first.status_code == 200
        assert "Version 1, in effect since 08 Oct 2025" in first.text
        async with unit_of_work(runtime) as uow:
            before = uow.clock.now()

        posted = await _post_refund_v2(staff_client)
        assert posted.status_code == 303, posted.text
        assert "Version 2 of the Refund Policy is posted" in (await staff_client.get(posted.headers["location"])).text

        page = await public.get("/legal/refund-policy")  # at once, no cache or restart
        assert "Version 2, in effect since" in page.text
        assert "<strong>21 days</strong>" in page.text and "<li>no card needed</li>" in page.text
        history = await public.get("/legal/refund-policy/versions")
        assert 'href="/legal/refund-policy/versions/2"' in history.text
        assert 'href="/legal/refund-policy/versions/1"' in history.text
        assert "The trial is 21 days." in history.text
        old = await public.get("/legal/refund-policy/versions/1")
        assert 'data-testid="superseded"' in old.text and "14-day free trial" in old.text
        assert 'data-testid="superseded"' not in (await public.get("/legal/refund-policy/versions/2")).text
        assert (await public.get("/legal/refund-policy/versions/3")).status_code == 404
        assert (await public.get("/legal/cookies/versions")).status_code == 404
        api = await public.get("/v1/policies/refund_policy/versions")  # public JSON, no API key
        assert [v["number"] for v in api.json()] == [2, 1]

    async with unit_of_work(runtime) as uow:
        v2 = await policy_service.current(uow, "refund_policy")
        assert v2.number == 2 and v2.posted_by is not None
        assert (await policy_service.in_force(uow, "refund_policy", before)).number == 1
        assert (await policy_service.in_force(uow, "refund_policy", v2.effective_at - timedelta(microseconds=1))
                ).number == 1
        assert (await policy_service.in_force(uow, "refund_policy", v2.effective_at)).number == 2
        assert (await policy_service.in_force(uow, "refund_policy", uow.clock.now())).number == 2
        assert (await policy_service.in_force(uow, "terms", uow.clock.now())).number == 1  # other kinds unchanged
        audited = await uow.session.scalar(select(AuditEvent).where(AuditEvent.action == "policy.version_posted"))
        assert audited is not None and audited.details["number"] == 2 and audited.actor_type == "staff"

    # the customer, who signed up before version 2, sees the notice until they dismiss it
    for _ in range(2):
        notice = await client.get("/legal/notices")
        assert "The Refund Policy changed on" in notice.text and "read version 2" in notice.text
        assert "Terms of Service changed" not in notice.text
    dismissed = await client.post("/legal/notices/refund-policy/dismiss",
                                  data={"number": "2", "csrf_token": csrf_from(notice.text)})
    assert dismissed.status_code == 303
    assert "policy-notice" not in (await client.get("/legal/notices")).text  # once: gone after dismissing
    forged = await client.post("/legal/notices/refund-policy/dismiss", data={"number": "2"})
    assert forged.status_code == 403  # CSRF-checked

    # someone who signs up after version 2 was posted is not told about it
    newcomer = await make_org(runtime, "Late Arrivals")
    async with new_client(app) as other:
        await browser_sign_in(other, newcomer.owner.email)
        assert "policy-notice" not in (await other.get("/legal/notices")).text


async def test_clause_9_legal_the_policy_links_terms_and_privacy(app, runtime, staff_client) -> None:  # noqa: F811
    async with new_client(app) as public:
        refund = await public.get("/legal/refund-policy")
        see_also = refund.text.split('data-testid="see-also"')[1]
        assert 'href="/legal/terms"' in see_also and 'href="/legal/privacy"' in see_also
        for path in ("/legal/refund-policy", "/legal/terms", "/legal/privacy", "/legal/terms/versions",
                     "/legal/privacy/versions/1", "/sign-in", "/sign-up", "/forgot-password", "/demo", "/contact"):
            page = await public.get(path)
            assert page.status_code == 200, path
            footer = page.text.split('data-testid="public-footer"')[1]
            assert all(link in footer for link in FOOTER_LINKS), path
            assert 'href="/demo"' in footer and 'href="/contact"' in footer, path
        assert "Terms of Service" in (await public.get("/legal/terms")).text
        assert "Meta Platforms" in (await public.get("/legal/privacy")).text

        # an amendment whose text forgets the links still links them
        assert (await _post_refund_v2(staff_client, "Refunds: see clause 4 only.")).status_code == 303
        amended = await public.get("/legal/refund-policy")
        assert "Version 2" in amended.text
        see_also = amended.text.split('data-testid="see-also"')[1]
        assert 'href="/legal/terms"' in see_also and 'href="/legal/privacy"' in see_also


async def test_staff_post_is_validated_and_a_bad_post_changes_nothing(runtime, staff_client) -> None:  # noqa: F811
    page = await staff_client.get("/backoffice/policies")
    assert page.status_code == 200 and 'data-testid="policy-terms"' in page.text
    empty = await staff_post(staff_client, "/backoffice/policies/terms",
                             {"title": "Terms of Service", "body": "   ", "change_summary": "Nothing."})
    assert empty.status_code == 422
    assert "The text of the new version is empty" in empty.text
    no_summary = await staff_post(staff_client, "/backoffice/policies/terms",
                                  {"title": "Terms", "body": "New terms.", "change_summary": ""})
    assert no_summary.status_code == 422 and "what changed" in no_summary.text
    too_long = await staff_post(staff_client, "/backoffice/policies/terms",
                                {"title": "T" * 201, "body": "New terms.", "change_summary": "x"})
    assert too_long.status_code == 422
    assert (await staff_post(staff_client, "/backoffice/policies/cookies",
                             {"title": "x", "body": "y", "change_summary": "z"})).status_code == 404
    async with runtime.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(PolicyVersion)
                                    .where(PolicyVersion.kind == "terms")) == 1
    assert (await staff_client.get("/backoffice/policies/terms")).status_code == 200


async def test_bodies_are_rendered_with_html_escaped(app, staff_client) -> None:  # noqa: F811
    body = "Hello <script>alert('x')</script> and <b>bold</b>\n\n[click](javascript:alert(1))"
    assert (await _post_refund_v2(staff_client, body)).status_code == 303
    async with new_client(app) as public:
        page = (await public.get("/legal/refund-policy")).text
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "<b>bold</b>" not in page and 'href="javascript:' not in page


async def test_posted_versions_are_never_changed_or_deleted(runtime) -> None:
    with pytest.raises(Conflict):
        async with unit_of_work(runtime) as uow:
            version = await policy_service.current(uow, "privacy")
            version.body = "rewritten history"
            await uow.flush()
    with pytest.raises(Conflict):
        async with unit_of_work(runtime) as uow:
            await uow.session.delete(await policy_service.current(uow, "privacy"))
            await uow.flush()
    async with unit_of_work(runtime) as uow:
        assert "rewritten history" not in (await policy_service.current(uow, "privacy")).body


async def test_version_1_is_seeded_once(runtime) -> None:
    async with unit_of_work(runtime) as uow:
        await policy_service.ensure_seeded(uow)
        await policy_service.ensure_seeded(uow)
        assert len(await policy_service.current_of_each(uow)) == 3
    async with runtime.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(PolicyVersion)) == 3


async def test_the_api_serves_policies_without_a_key(client) -> None:
    listing = await client.get("/v1/policies")
    assert listing.status_code == 200
    assert {p["kind"]: p["number"] for p in listing.json()} == {"refund_policy": 1, "terms": 1, "privacy": 1}
    one = await client.get("/v1/policies/refund-policy")
    assert one.json()["history_url"] == "/legal/refund-policy/versions" and "14-day" in one.json()["body"]
    assert (await client.get("/v1/policies/privacy/versions/1")).json()["title"] == "Privacy Policy"
    missing = await client.get("/v1/policies/cookies")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "policy_not_found"
    assert (await client.get("/v1/policies/terms/versions/9")).status_code == 404


async def test_the_notice_lists_each_changed_document_and_dismissing_one_leaves_the_others(
        client, runtime, staff_client) -> None:  # noqa: F811
    customer = await make_org(runtime, "Two Changes Ltd")
    await browser_sign_in(client, customer.owner.email)
    assert (await _post_refund_v2(staff_client)).status_code == 303
    assert (await staff_post(staff_client, "/backoffice/policies/privacy", {
        "title": "Privacy Policy", "body": "We keep less.", "change_summary": "Shorter retention."})).status_code == 303
    notice = await client.get("/legal/notices")
    assert notice.text.count('data-testid="policy-notice"') == 2 and "The Privacy Policy changed on" in notice.text
    rest = await client.post("/legal/notices/privacy/dismiss", data={"number": "2"},
                             headers={"HX-Request": "true", "X-CSRF-Token": csrf_from(notice.text)})
    assert rest.status_code == 200  # the banner swaps in what is left
    assert rest.text.count('data-testid="policy-notice"') == 1 and "The Refund Policy changed" in rest.text
    stale = await client.post("/legal/notices/privacy/dismiss", data={"number": "7"},
                              headers={"X-CSRF-Token": csrf_from(notice.text)})
    assert stale.status_code == 404
    schema = (await client.get("/openapi.json")).json()
    assert schema["paths"]["/v1/policies"]["get"]["security"] == []  # documented as needing no key
