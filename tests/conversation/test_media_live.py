"""Inbound media over real HTTP: a sandbox customer sends a file, the fetch job gets it from the sandbox (as from
Meta: media id → URL → download with the token) and the dashboard and /v1 serve it (fixtures in live.py)."""

from __future__ import annotations

import base64
import hashlib

from sqlalchemy import select

from softdukan.conversation.media.models import MediaFile
from softdukan.conversation.models import Message
from tests.conversation.live import CUSTOMER, Live, wait_for
from tests.support.factories import browser_sign_in

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


async def customer_sends_file(live: Live, kind: str, data: bytes, **extra: str) -> str:
    response = await live.http.post(f"/sandbox/graph/_sandbox/customers/{CUSTOMER}/messages", json={
        "phone_number_id": live.number.phone_number_id,
        "message": {"type": kind, kind: {"data_base64": base64.b64encode(data).decode(), **extra}}})
    assert response.status_code == 200, response.text
    return str(response.json()["wamid"])


async def stored(live: Live, wamid: str) -> tuple[Message, MediaFile]:
    async def check() -> tuple[Message, MediaFile] | None:
        async with live.runtime.sessionmaker() as session:
            message = (await session.execute(select(Message).where(Message.wamid == wamid))).scalar_one_or_none()
            if message is None:
                return None
            media = (await session.execute(select(MediaFile).where(MediaFile.message_id == message.id))
                     ).scalar_one_or_none()
            return (message, media) if media is not None and media.state != "pending" else None

    return await wait_for(check, "the file to be fetched and stored")  # type: ignore[no-any-return]


async def test_an_image_from_a_customer_is_stored_and_served_inline(live: Live) -> None:
    wamid = await customer_sends_file(live, "image", PNG, mime_type="image/png", caption="This one?")
    message, media = await stored(live, wamid)
    assert media.state == "stored", media.error
    assert media.size == len(PNG) and media.sha256 == hashlib.sha256(PNG).hexdigest()
    assert media.mime_type == "image/png" and media.organization_id == live.org.org.id

    api = await live.http.get(f"/v1/messages/{message.id}/media", headers=live.org.auth)
    assert api.status_code == 200 and api.content == PNG
    assert api.headers["content-type"] == "image/png"
    assert api.headers["x-content-type-options"] == "nosniff"
    assert api.headers["content-disposition"].startswith("inline;")
    described = (await live.http.get(f"/v1/messages/{message.id}", headers=live.org.auth)).json()
    assert described["media"]["state"] == "stored" and described["media"]["size"] == len(PNG)

    await browser_sign_in(live.http, live.org.owner.email)
    url = f"/conversations/{message.conversation_id}/media/{message.id}"
    page = await live.http.get(f"/conversations/{message.conversation_id}")
    assert f'<img src="{url}"' in page.text and "This one?" in page.text
    served = await live.http.get(url)
    assert served.status_code == 200 and served.content == PNG and served.headers["content-type"] == "image/png"


async def test_a_document_is_a_download_with_its_name(live: Live) -> None:
    wamid = await customer_sends_file(live, "document", PDF, mime_type="application/pdf", filename="invoice 42.pdf")
    message, media = await stored(live, wamid)
    assert media.state == "stored" and media.filename == "invoice 42.pdf"
    api = await live.http.get(f"/v1/messages/{message.id}/media", headers=live.org.auth)
    assert api.content == PDF and api.headers["content-type"] == "application/pdf"
    assert api.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''invoice%2042.pdf" in api.headers["content-disposition"]

    await browser_sign_in(live.http, live.org.owner.email)
    page = await live.http.get(f"/conversations/{message.conversation_id}")
    card = page.text.split('class="msg-media msg-document', 1)[1].split("</a>", 1)[0]
    assert "invoice 42.pdf" in card and f"{len(PDF)} Bytes" in card and "download=" in card


async def test_a_voice_note_gets_an_audio_player(live: Live) -> None:
    ogg = b"OggS" + bytes(60)
    wamid = await customer_sends_file(live, "audio", ogg)
    message, media = await stored(live, wamid)
    assert media.state == "stored" and media.mime_type == "audio/ogg"
    await browser_sign_in(live.http, live.org.owner.email)
    page = await live.http.get(f"/conversations/{message.conversation_id}")
    assert '<audio class="msg-media msg-audio' in page.text
    assert f'src="/conversations/{message.conversation_id}/media/{message.id}"' in page.text
