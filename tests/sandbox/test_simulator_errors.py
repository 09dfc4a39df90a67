"""The phone simulator refuses bad input with a clear message and the right status, never a 500, and sends
nothing to the business when it refuses."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from softdukan.platform.runtime import Runtime
from softdukan.platform.uow import unit_of_work
from softdukan.sandbox import service
from tests.sandbox.test_simulator import CUSTOMER, PNG, Phone, open_phone


@pytest.fixture
async def phone(runtime: Runtime, client: httpx.AsyncClient, drain_jobs: Any) -> Phone:
    return await open_phone(runtime, client, drain_jobs)


async def test_the_page_without_numbers_points_to_connect(client: httpx.AsyncClient, runtime: Runtime) -> None:
    response = await client.get("/sandbox/phone")
    assert response.status_code == 200
    assert 'id="no-numbers"' in response.text and 'href="/numbers/connect"' in response.text


async def test_picking_a_number_then_creating_a_customer_opens_the_chat(phone: Phone) -> None:
    page = await phone.client.get("/sandbox/phone", params={"phone_number_id": phone.pnid})
    assert page.status_code == 200 and "Asha Stores" in page.text and 'id="customer-create"' in page.text
    assert "Ravi Kumar" in page.text  # existing customers are offered
    await phone.open()
    created = await phone.post("/customers", {"name": "Meera Iyer"}, wa_id="+91 99000 11223", htmx=False)
    assert created.status_code == 303
    assert created.headers["location"] == f"/sandbox/phone?phone_number_id={phone.pnid}&wa_id=919900011223"
    chat = await phone.client.get(created.headers["location"])
    assert chat.status_code == 200 and "you are Meera Iyer (+919900011223)" in chat.text


async def test_plain_form_posts_redirect_back_to_the_chat(phone: Phone) -> None:
    await phone.open()
    response = await phone.post("/send", {"kind": "text", "body": "no js here"}, htmx=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"/sandbox/phone?phone_number_id={phone.pnid}&wa_id={CUSTOMER}")
    assert "no js here" in (await phone.client.get(response.headers["location"])).text


@pytest.mark.parametrize(("params", "status", "message"), [
    ({"phone_number_id": "999999999999999", "wa_id": CUSTOMER}, 404, "not in the sandbox"),
    ({"phone_number_id": "999999999999999"}, 404, "not in the sandbox"),
    ({"wa_id": "abc"}, 400, "is not a valid WhatsApp id"),
])
async def test_unknown_numbers_and_bad_customer_ids_are_explained(phone: Phone, params: dict[str, str],
                                                                  status: int, message: str) -> None:
    response = await phone.client.get("/sandbox/phone", params={"phone_number_id": phone.pnid, **params})
    assert response.status_code == status, response.text
    assert message in response.text and 'role="alert"' in response.text
    fragment = await phone.client.get("/sandbox/phone/thread", params={"phone_number_id": phone.pnid, **params})
    assert fragment.status_code == status and message in fragment.text
    assert fragment.headers["hx-retarget"] == "#phone-error"


@pytest.mark.parametrize(("data", "status", "message"), [
    ({"kind": "text", "body": "   "}, 400, "Message is required"),
    ({"kind": "text", "body": "x" * 4097}, 400, "at most 4096"),
    ({"kind": "text", "body": "nul\x00byte"}, 400, "does not accept"),
    ({"kind": "location", "latitude": "north", "longitude": "77.6"}, 400, "Latitude must be a number"),
    ({"kind": "location", "latitude": "12.9", "longitude": "200"}, 400, "Longitude must be between -180 and 180"),
    ({"kind": "sticker"}, 400, "text, a location or an image"),
    ({"kind": "image"}, 400, "Choose an image"),
    ({"kind": "text", "body": "hi", "wa_id": "12"}, 400, "is not a valid WhatsApp id"),
    ({"kind": "text", "body": "hi", "phone_number_id": "424242"}, 404, "not in the sandbox"),
    ({"kind": "text", "body": "hi", "phone_number_id": ""}, 400, "Pick a business number"),
])
async def test_bad_composer_input_is_refused_clearly(phone: Phone, data: dict[str, str], status: int,
                                                     message: str) -> None:
    before = len(await phone.inbound())
    wa_id = data.pop("wa_id", CUSTOMER)
    multipart = {"unused": ("x.txt", b"", "text/plain")}  # multipart: NUL checks are the simulator's own there
    response = await phone.post("/send", data, wa_id=wa_id, files=multipart)
    assert response.status_code == status, response.text
    assert message in response.text and response.headers["hx-retarget"] == "#phone-error"
    plain = await phone.post("/send", data, wa_id=wa_id, htmx=False, files=multipart)  # no htmx: the page, alerted
    assert plain.status_code == status and message in plain.text and "<html" in plain.text
    assert len(await phone.inbound()) == before


async def test_a_broken_multipart_body_is_a_clear_400(phone: Phone) -> None:
    await phone.open()
    response = await phone.client.post("/sandbox/phone/send", content=b"--xyz\r\nContent-Disposition: form-data\r\n",
                                       headers={"Content-Type": "multipart/form-data; boundary=xyz"})
    assert response.status_code in (400, 403) and "500" not in str(response.status_code)
    response = await phone.client.post("/sandbox/phone/send", content=b"garbage",
                                       headers={"Content-Type": "multipart/form-data; boundary=xyz",
                                                "X-CSRF-Token": phone.csrf, "HX-Request": "true"})
    assert response.status_code == 400 and "could not be read" in response.text


async def test_images_must_be_jpeg_or_png_of_at_most_5_mb(phone: Phone) -> None:
    big = PNG + b"\0" * (5 * 1024 * 1024)
    response = await phone.post("/send", {"kind": "image"}, files={"image": ("big.png", big, "image/png")})
    assert response.status_code == 413 and "at most 5 MB" in response.text
    response = await phone.post("/send", {"kind": "image"}, files={"image": ("notes.txt", b"plain text", "image/png")})
    assert response.status_code == 415 and "Only JPEG and PNG" in response.text
    assert await phone.inbound() == []


async def test_forms_without_the_csrf_token_are_refused(phone: Phone) -> None:
    response = await phone.post("/send", {"kind": "text", "body": "forged"}, csrf=False, htmx=False)
    assert response.status_code == 403 and "did not come from SoftDukan" in response.text
    response = await phone.post("/send", {"kind": "text", "body": "forged", "csrf_token": "0" * 64})
    assert response.status_code == 403
    assert await phone.inbound() == []


async def test_taps_on_messages_not_in_the_chat_or_buttons_not_on_them_are_refused(phone: Phone) -> None:
    await phone.says("hi")
    text = await phone.business_sends("text", {"type": "text", "text": {"body": "Plain"}})
    buttons = await phone.business_sends("buttons", {"type": "interactive", "interactive": {
        "type": "button", "body": {"text": "Pick"},
        "action": {"buttons": [{"type": "reply", "reply": {"id": "a", "title": "A"}}]}}})
    await phone.drain()
    async with unit_of_work(phone.runtime) as uow:
        await service.upsert_customer(uow, "919700000009", name="Someone else")
    before = len(await phone.inbound())
    cases = [
        ({"wamid": text, "choice": "0"}, CUSTOMER, 400, "nothing to tap"),
        ({"wamid": buttons, "choice": "3"}, CUSTOMER, 400, "not on this message"),
        ({"wamid": buttons, "choice": "-1"}, CUSTOMER, 400, "not on this message"),
        ({"wamid": buttons, "choice": "0"}, "919700000009", 404, "not in this chat"),
        ({"wamid": "wamid.nope", "choice": "0"}, CUSTOMER, 404, "not in this chat"),
        ({"wamid": "", "choice": "0"}, CUSTOMER, 400, "Message is required"),
    ]
    for data, wa_id, status, message in cases:
        response = await phone.post("/tap", data, wa_id=wa_id)
        assert response.status_code == status and message in response.text, (data, response.text)
    assert len(await phone.inbound()) == before


async def test_media_is_served_only_for_the_number_it_belongs_to(phone: Phone, runtime: Runtime) -> None:
    media_id = await phone.upload(PNG, "image/png", "dot.png")
    ok = await phone.client.get(f"/sandbox/phone/media/{media_id}", params={"phone_number_id": phone.pnid})
    assert ok.status_code == 200 and ok.content == PNG
    async with unit_of_work(runtime) as uow:
        other = await service.provision(uow, app_id="1234567890123456", app_secret="sandbox-app-secret-0123456789",
                                        callback_url=None, verify_token=None, business_name="Other",
                                        verified_name="Other")
    for params in ({"phone_number_id": other["phone_number_id"]}, {"phone_number_id": "nope"}, {}):
        assert (await phone.client.get(f"/sandbox/phone/media/{media_id}", params=params)).status_code == 404
    assert (await phone.client.get("/sandbox/phone/media/123", params={"phone_number_id": phone.pnid})
            ).status_code == 404
