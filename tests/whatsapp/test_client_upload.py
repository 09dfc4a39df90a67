"""GraphClient's resumable upload against the sandbox over real HTTP (the whole app on `live_server`): the handle it
returns is accepted as a template's media sample, a broken transfer resumes from Meta's offset, and every refusal
arrives as a typed error."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from softdukan.whatsapp.client import GraphClient, MediaValidationError, UploadSession
from softdukan.whatsapp.errors import GraphError, InvalidParameterError, ServerError
from tests.whatsapp.sandbox_support import Number, SandboxMeta, WebhookReceiver

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360f8cf"
    "c0f01f0005000201a5f5e4f20000000049454e44ae426082"
)
PDF = b"%PDF-1.4\n" + bytes(range(32, 127)) * 40 + b"\n%%EOF\n"


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    hook = WebhookReceiver()
    hook.start()
    yield hook
    hook.stop()


@pytest.fixture
async def meta(runtime, live_server, receiver: WebhookReceiver) -> AsyncIterator[SandboxMeta]:  # type: ignore[no-untyped-def]
    sandbox = SandboxMeta(live_server, receiver)
    await sandbox.profile(template_review_delay_seconds=0)
    yield sandbox
    await sandbox.aclose()


@pytest.fixture
async def number(meta: SandboxMeta) -> Number:
    return await meta.provision()


@pytest.fixture
def client(meta: SandboxMeta, number: Number) -> GraphClient:
    return meta.client(number.access_token)


def image_template(handle: str) -> dict:  # type: ignore[type-arg]
    return {"name": "diwali_offer", "language": "en", "category": "MARKETING", "components": [
        {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": [handle]}},
        {"type": "BODY", "text": "Diwali offer: 20% off every box of chai this week."}]}


async def test_upload_file_gives_a_handle_a_template_accepts(client: GraphClient, meta: SandboxMeta,
                                                             number: Number) -> None:
    handle = await client.upload_file(meta.app_id, PNG, file_name="offer.png", file_type="image/png")
    assert handle.startswith("4::")

    created = await client.create_template(number.waba_id, **image_template(handle))
    assert created.status == "PENDING"
    got = await client.get_template(created.id, fields=["components"])
    [url] = got["components"][0]["example"]["header_handle"]
    async with httpx.AsyncClient() as http:  # the sample URL needs no token, like Meta's CDN
        assert (await http.get(url)).content == PNG


async def test_a_broken_transfer_resumes_from_metas_offset(client: GraphClient, meta: SandboxMeta) -> None:
    await meta.profile(upload_cut_after_bytes=1500)  # each send keeps 1,500 bytes, then "the connection breaks"
    handle = await client.upload_file(meta.app_id, PDF, file_name="menu.pdf", file_type="application/pdf")
    assert len(PDF) > 3000  # three sends at least: resumed twice

    session = await client.start_upload(meta.app_id, file_name="menu.pdf", file_length=len(PDF),
                                        file_type="application/pdf")
    with pytest.raises(ServerError) as broken:
        await client.upload_part(session, PDF, offset=0)
    assert broken.value.retryable
    assert await client.upload_status(session) == UploadSession(id=session, file_offset=1500)
    with pytest.raises(InvalidParameterError, match="resume from file_offset 1500"):
        await client.upload_part(session, PDF[10:], offset=10)
    await meta.profile(upload_cut_after_bytes=None)
    second = await client.upload_part(session, PDF[1500:], offset=1500)
    assert second is not None and second != handle


async def test_gives_up_after_max_attempts_with_the_last_error(client: GraphClient, meta: SandboxMeta) -> None:
    await meta.profile(upload_cut_after_bytes=100)
    with pytest.raises(ServerError):
        await client.upload_file(meta.app_id, PDF, file_name="menu.pdf", file_type="application/pdf",
                                 max_attempts=3)


async def test_local_checks_refuse_before_any_call(client: GraphClient, meta: SandboxMeta) -> None:
    with pytest.raises(MediaValidationError, match="JPEG or PNG image, an MP4 video or a PDF"):
        await client.upload_file(meta.app_id, b"GIF89a", file_name="a.gif", file_type="image/gif")
    with pytest.raises(MediaValidationError, match="empty"):
        await client.upload_file(meta.app_id, b"", file_name="a.png", file_type="image/png")
    with pytest.raises(MediaValidationError, match="5 MB"):
        await client.upload_file(meta.app_id, b"\x89PNG" + bytes(5 * 1024 * 1024), file_name="a.png",
                                 file_type="image/png")
    with pytest.raises(MediaValidationError, match="without folders"):
        await client.upload_file(meta.app_id, PNG, file_name="../a.png", file_type="image/png")
    with pytest.raises(ValueError, match="upload:"):
        await client.upload_status("../../v24.0/me")


async def test_meta_refusals_are_typed(client: GraphClient, meta: SandboxMeta, number: Number) -> None:
    with pytest.raises(GraphError) as unknown_app:
        await client.start_upload("999000111222333", file_name="a.png", file_length=10, file_type="image/png")
    assert unknown_app.value.body.code == 100 and unknown_app.value.body.error_subcode == 33
    with pytest.raises(GraphError) as made_up:
        await client.create_template(number.waba_id, **image_template("4::aW1hZ2UvcG5n:never-uploaded"))
    assert made_up.value.body.error_subcode == 2494102
    session = await client.start_upload(meta.app_id, file_name="a.png", file_length=len(PNG), file_type="image/png")
    with pytest.raises(InvalidParameterError, match="more than its file_length"):
        await client.upload_part(session, PNG + b"extra", offset=0)
    stranger = meta.client("EAASnot-a-real-token")
    with pytest.raises(GraphError) as no_auth:
        await stranger.upload_status(session)
    assert no_auth.value.body.code == 190
