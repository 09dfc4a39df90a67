"""Media rules in-process: the 7-day id lifetime, failures recorded on the message's media row, what the routes
answer while a file is pending or missing, safe serving of hostile types, and tenant scoping."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update

from softdukan.conversation.media.models import MediaFile
from softdukan.conversation.models import Message
from tests.support.factories import browser_sign_in
from tests.support.whatsapp import envelope, inbound, make_whatsapp, messages_change, post_webhook, rows
from tests.support.whatsapp_fixtures import T0


async def deliver_image(client, runtime, drain_jobs, wa, wamid: str, at: datetime = T0  # type: ignore[no-untyped-def]
                        ) -> tuple[Message, MediaFile]:
    image = {"mime_type": "image/jpeg", "sha256": "x", "id": f"media-{wamid}"}
    response = await post_webhook(client, envelope(wa.waba_id, [messages_change(wa, messages=[
        inbound(wamid, at, "image", image)])]))
    assert response.status_code == 200
    await drain_jobs()
    [message] = await rows(runtime, Message, Message.wamid == wamid)
    [media] = await rows(runtime, MediaFile, MediaFile.message_id == message.id)
    return message, media


async def store(runtime, media: MediaFile, data: bytes, mime: str, filename: str | None = None  # type: ignore[no-untyped-def]
                ) -> None:
    async with runtime.sessionmaker() as session:
        await session.execute(update(MediaFile).where(MediaFile.id == media.id).values(
            state="stored", data=data, size=len(data), mime_type=mime, filename=filename, sha256="ab" * 32))
        await session.commit()


async def test_an_id_older_than_seven_days_is_not_fetched_and_the_reason_is_kept(client, runtime, drain_jobs, wa,
                                                                                 clock) -> None:
    clock.advance(days=8)
    message, media = await deliver_image(client, runtime, drain_jobs, wa, "wamid.old", at=T0)
    assert media.state == "failed" and "7 days" in (media.error or "")
    answer = await client.get(f"/v1/messages/{message.id}/media", headers=wa.org.auth)
    assert answer.status_code == 410 and answer.json()["error"]["code"] == "media_unavailable"
    described = (await client.get(f"/v1/messages/{message.id}", headers=wa.org.auth)).json()
    assert described["media"]["state"] == "failed" and "7 days" in described["media"]["error"]
    await browser_sign_in(client, wa.org.owner.email)
    page = await client.get(f"/conversations/{message.conversation_id}")
    assert 'data-state="failed"' in page.text and "File not available" in page.text


async def test_a_file_being_fetched_is_409_and_shows_a_placeholder(client, runtime, drain_jobs, wa) -> None:
    # no Graph API answers in-process ("testserver" does not resolve): the fetch is retried later, still pending
    message, media = await deliver_image(client, runtime, drain_jobs, wa, "wamid.pending")
    assert media.state == "pending" and media.media_id == "media-wamid.pending"
    answer = await client.get(f"/v1/messages/{message.id}/media", headers=wa.org.auth)
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "media_not_ready"
    await browser_sign_in(client, wa.org.owner.email)
    page = await client.get(f"/conversations/{message.conversation_id}")
    assert 'data-state="pending"' in page.text and "Fetching the file" in page.text


async def test_hostile_types_are_never_served_inline(client, runtime, drain_jobs, wa) -> None:
    message, media = await deliver_image(client, runtime, drain_jobs, wa, "wamid.svg")
    await store(runtime, media, b"<svg onload=alert(1)></svg>", "image/svg+xml", 'x".svg')
    answer = await client.get(f"/v1/messages/{message.id}/media", headers=wa.org.auth)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/octet-stream"
    assert answer.headers["content-disposition"].startswith("attachment;")
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in answer.headers["content-security-policy"]

    other, other_media = await deliver_image(client, runtime, drain_jobs, wa, "wamid.html")
    await store(runtime, other_media, b"<script>alert(1)</script>", "text/html")
    await browser_sign_in(client, wa.org.owner.email)
    served = await client.get(f"/conversations/{other.conversation_id}/media/{other.id}")
    assert served.status_code == 200 and served.headers["content-type"] == "application/octet-stream"
    assert served.headers["content-disposition"].startswith("attachment;")


async def test_another_organizations_media_is_404(client, runtime, drain_jobs, wa) -> None:
    message, media = await deliver_image(client, runtime, drain_jobs, wa, "wamid.mine")
    await store(runtime, media, b"\xff\xd8\xff" + bytes(20), "image/jpeg")
    intruder = await make_whatsapp(runtime)
    assert (await client.get(f"/v1/messages/{message.id}/media", headers=intruder.org.auth)).status_code == 404
    await browser_sign_in(client, intruder.org.owner.email)
    assert (await client.get(f"/conversations/{message.conversation_id}/media/{message.id}")).status_code == 404
    text_message = await client.get(f"/v1/messages/{message.id}/media", headers=wa.org.auth)
    assert text_message.status_code == 200  # the owner sees it


async def test_a_message_without_a_file_is_404(client, runtime, drain_jobs, wa) -> None:
    response = await post_webhook(client, envelope(wa.waba_id, [messages_change(wa, messages=[
        inbound("wamid.text", T0, "text", {"body": "hi"})])]))
    assert response.status_code == 200
    await drain_jobs()
    [message] = await rows(runtime, Message, Message.wamid == "wamid.text")
    answer = await client.get(f"/v1/messages/{message.id}/media", headers=wa.org.auth)
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "media_not_found"


async def test_outbound_media_by_link_shows_the_image_and_by_id_is_fetched_back(client, runtime, wa) -> None:
    from softdukan.contact.service import contact_service
    from softdukan.conversation.outbound import record_outbound
    from softdukan.number.models import PhoneNumber
    from softdukan.platform.uow import unit_of_work

    async with unit_of_work(runtime) as uow:
        phone = await uow.session.get(PhoneNumber, wa.phone.id)
        assert phone is not None
        contact = await contact_service.ensure(uow, phone.organization_id, "919812399999")
        by_link = await record_outbound(uow, phone, contact, type="image",
                                        content={"link": "https://cdn.example/kurta.jpg", "caption": "New stock"})
        by_id = await record_outbound(uow, phone, contact, type="document",
                                      content={"id": "4490709327384033", "filename": "catalog.pdf"})
    assert await rows(runtime, MediaFile, MediaFile.message_id == by_link.id) == []
    [media] = await rows(runtime, MediaFile, MediaFile.message_id == by_id.id)
    assert media.state == "pending" and media.media_id == "4490709327384033" and media.filename == "catalog.pdf"
    await browser_sign_in(client, wa.org.owner.email)
    page = await client.get(f"/conversations/{by_link.conversation_id}")
    assert '<img src="https://cdn.example/kurta.jpg"' in page.text and 'referrerpolicy="no-referrer"' in page.text
    assert "New stock" in page.text and "catalog.pdf" in page.text
