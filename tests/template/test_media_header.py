"""Media headers: the sample file goes to WhatsApp through the Resumable Upload API (GraphClient → sandbox over
HTTP), from /v1/templates/header-media and from the dashboard form, and the template is submitted with its handle."""

from __future__ import annotations

from typing import Any

from softdukan.sandbox.models import SandboxUpload
from softdukan.template.models import MessageTemplate
from tests.support.factories import browser_sign_in, csrf_from, make_org
from tests.support.whatsapp import rows
from tests.template.conftest import Shop

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360f8cf"
    "c0f01f0005000201a5f5e4f20000000049454e44ae426082"
)
PDF = b"%PDF-1.4\n" + bytes(range(32, 127)) * 20 + b"\n%%EOF\n"


def offer(handle: str | None, fmt: str = "IMAGE", name: str = "diwali_offer") -> dict[str, Any]:
    header: dict[str, Any] = {"type": "HEADER", "format": fmt}
    if handle is not None:
        header["example"] = {"header_handle": [handle]}
    return {"name": name, "language": "en", "category": "MARKETING", "components": [
        header, {"type": "BODY", "text": "Hi {{1}}, enjoy 20% off every box of chai this Diwali week.",
                 "example": {"body_text": [["Asha"]]}}]}


async def upload(shop: Shop, content: bytes, name: str = "offer.png", mime: str = "image/png",
                 **form: str) -> Any:
    return await shop.client.post("/v1/templates/header-media", headers=shop.org.auth, data=form,
                                  files={"file": (name, content, mime)})


async def test_api_uploads_the_sample_then_the_template_is_approved_with_it(shop: Shop) -> None:
    response = await upload(shop, PNG, header_format="IMAGE")
    assert response.status_code == 201, response.text
    sample = response.json()
    assert sample["handle"].startswith("4::") and sample["file_size"] == len(PNG)
    assert (sample["file_type"], sample["file_name"], sample["account_id"]) == ("image/png", "offer.png",
                                                                               shop.account.id)
    [stored] = await rows(shop.runtime, SandboxUpload, SandboxUpload.handle == sample["handle"])
    assert stored.data == PNG  # the sandbox (playing Meta) holds the very bytes

    created = await shop.client.post("/v1/templates", json=offer(sample["handle"]), headers=shop.org.auth)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "PENDING" and created.json()["variables"] == ["header", "body.1"]
    await shop.settle(seconds=61)
    template = await shop.template(created.json()["id"])
    assert template.status == "APPROVED"
    assert template.components[0]["example"]["header_handle"] == [sample["handle"]]

    # after a sync the template holds Meta's URL of the sample, and its page shows the image
    synced = await shop.client.post("/v1/templates/sync", json={}, headers=shop.org.auth)
    assert synced.status_code == 200, synced.text
    [url] = (await shop.template(created.json()["id"])).components[0]["example"]["header_handle"]
    assert url.startswith("http") and (await shop.client.get(url)).content == PNG
    await browser_sign_in(shop.client, shop.org.owner.email)
    page = await shop.client.get(f"/templates/{created.json()['id']}")
    assert f'<img src="{url}"' in page.text


async def test_api_refuses_bad_samples_clearly(shop: Shop) -> None:
    gif = await upload(shop, b"GIF89a....", name="a.gif", mime="image/gif")
    assert gif.status_code == 422 and "JPEG or PNG image, an MP4 video or a PDF" in gif.json()["error"]["message"]
    assert gif.json()["error"]["details"] == {"file": gif.json()["error"]["message"]}
    wrong = await upload(shop, PDF, name="menu.pdf", mime="application/pdf", header_format="IMAGE")
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "header_sample_type"
    empty = await upload(shop, b"", name="a.png")
    assert empty.status_code == 422 and "empty" in empty.json()["error"]["message"]
    big = await upload(shop, b"\x89PNG" + bytes(5 * 1024 * 1024), name="big.png")
    assert big.status_code == 422 and "5 MB" in big.json()["error"]["message"]
    missing = await shop.client.post("/v1/templates/header-media", headers=shop.org.auth, data={"x": "1"})
    assert missing.status_code == 422
    bad_format = await upload(shop, PNG, header_format="LOCATION")
    assert bad_format.status_code == 422 and "header_format" in bad_format.json()["error"]["details"]
    assert await rows(shop.runtime, SandboxUpload) == []  # nothing reached WhatsApp

    # by extension when the part says nothing useful
    guessed = await upload(shop, PNG, name="offer.png", mime="application/octet-stream")
    assert guessed.status_code == 201 and guessed.json()["file_type"] == "image/png"


async def test_another_organizations_account_is_not_found(shop: Shop) -> None:
    other = await make_org(shop.runtime, "Someone Else")
    response = await shop.client.post("/v1/templates/header-media", headers=other.auth,
                                      data={"account_id": str(shop.account.id)},
                                      files={"file": ("offer.png", PNG, "image/png")})
    assert response.status_code == 404
    assert await rows(shop.runtime, SandboxUpload) == []


async def test_a_made_up_handle_is_refused_by_whatsapp_and_nothing_is_kept(shop: Shop) -> None:
    response = await shop.client.post("/v1/templates", json=offer("4::aW1hZ2UvcG5n:never-uploaded"),
                                      headers=shop.org.auth)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]["meta_subcode"] == 2494102
    assert await rows(shop.runtime, MessageTemplate) == []
    no_sample = await shop.client.post("/v1/templates", json=offer(None), headers=shop.org.auth)
    assert no_sample.status_code == 422 and "header.example" in no_sample.json()["error"]["details"]


FORM = {"name": "diwali_offer", "language": "en", "category": "MARKETING", "parameter_format": "POSITIONAL",
        "header_format": "IMAGE", "body": "Hi {{1}}, enjoy 20% off every box of chai this Diwali week.",
        "body_examples": "Asha", "footer": "Reply STOP to opt out"}


async def post_multipart(shop: Shop, path: str, data: dict[str, Any], file: tuple[str, bytes, str] | None) -> Any:
    token = csrf_from((await shop.client.get("/templates/new")).text)
    files = {"header_file": file} if file else {"header_file": ("", b"", "application/octet-stream")}
    return await shop.client.post(path, data={**data, "csrf_token": token}, files=files)


async def test_form_uploads_the_chosen_file_and_submits_with_its_handle(shop: Shop) -> None:
    await browser_sign_in(shop.client, shop.org.owner.email)
    page = await shop.client.get("/templates/new")
    assert 'enctype="multipart/form-data"' in page.text and 'type="file" id="f-header_file"' in page.text
    assert 'hx-params="not header_file"' in page.text

    response = await post_multipart(shop, "/templates/new", FORM, ("diwali.png", PNG, "image/png"))
    assert response.status_code == 303, response.text
    [template] = await rows(shop.runtime, MessageTemplate)
    [handle] = template.components[0]["example"]["header_handle"]
    [stored] = await rows(shop.runtime, SandboxUpload)
    assert (stored.handle, stored.data, stored.file_name) == (handle, PNG, "diwali.png")
    assert template.status == "PENDING"


async def test_form_checks_everything_else_before_uploading(shop: Shop) -> None:
    await browser_sign_in(shop.client, shop.org.owner.email)
    broken = await post_multipart(shop, "/templates/new", {**FORM, "body": "{{1}} only a variable"},
                                  ("diwali.png", PNG, "image/png"))
    assert broken.status_code == 422 and "not uploaded yet" in broken.text
    wrong_type = await post_multipart(shop, "/templates/new", FORM, ("menu.pdf", PDF, "application/pdf"))
    assert wrong_type.status_code == 422 and "needs a JPEG or PNG image as its sample" in wrong_type.text
    no_file = await post_multipart(shop, "/templates/new", FORM, None)
    assert no_file.status_code == 422 and "sample file" in no_file.text
    assert await rows(shop.runtime, SandboxUpload) == [] and await rows(shop.runtime, MessageTemplate) == []


async def test_a_refused_submission_keeps_the_uploaded_sample(shop: Shop) -> None:
    await browser_sign_in(shop.client, shop.org.owner.email)
    first = await post_multipart(shop, "/templates/new", FORM, ("diwali.png", PNG, "image/png"))
    assert first.status_code == 303
    # the same name again: refused as a duplicate after the upload; the form keeps the handle for the next try
    again = await post_multipart(shop, "/templates/new", FORM, ("diwali.png", PNG, "image/png"))
    assert again.status_code == 409 and 'id="sample-uploaded"' in again.text
    handle = (await rows(shop.runtime, SandboxUpload))[-1].handle
    assert f'name="header_handle" id="f-header_handle" value="{handle}"' in again.text
    retry = await post_multipart(shop, "/templates/new", {**FORM, "name": "diwali_offer_2",
                                                          "header_handle": handle}, None)
    assert retry.status_code == 303, retry.text
    assert len(await rows(shop.runtime, SandboxUpload)) == 2  # no third upload


async def test_live_preview_knows_a_chosen_file_is_on_its_way(shop: Shop) -> None:
    await browser_sign_in(shop.client, shop.org.owner.email)
    token = csrf_from((await shop.client.get("/templates/new")).text)
    without = await shop.client.post("/templates/preview", data={**FORM, "csrf_token": token})
    assert 'data-field="header.example"' in without.text and 'data-part="header-media"' in without.text
    chosen = await shop.client.post("/templates/preview", data={**FORM, "header_file_name": "diwali.png",
                                                                "csrf_token": token})
    assert 'data-field="header.example"' not in chosen.text
