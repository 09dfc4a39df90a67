"""The sandbox's Resumable Upload API on the wire (raw HTTP, no client of ours): sessions, offsets, resume, errors,
and template media headers that must name a handle this business uploaded."""

from __future__ import annotations

from typing import Any

import httpx

from tests.sandbox.conftest import APP_ID, APP_SECRET, Sandbox, assert_meta_error

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360f8cf"
    "c0f01f0005000201a5f5e4f20000000049454e44ae426082"
)
PDF = b"%PDF-1.4\n" + b"%" + bytes(range(32, 127)) * 30 + b"\n%%EOF\n"


def oauth(sandbox: Sandbox, token: str | None = None) -> dict[str, str]:
    return {"Authorization": f"OAuth {token or sandbox.account['access_token']}"}


async def start(sandbox: Sandbox, data: bytes, file_type: str = "image/png", **extra: Any) -> httpx.Response:
    params = {"file_name": "sample.png", "file_length": len(data), "file_type": file_type, **extra}
    return await sandbox.http.post(f"{sandbox.graph}/{APP_ID}/uploads", params=params, headers=sandbox.auth)


async def send(sandbox: Sandbox, session: str, data: bytes, offset: int | str | None) -> httpx.Response:
    headers = oauth(sandbox)
    if offset is not None:
        headers["file_offset"] = str(offset)
    return await sandbox.http.post(f"{sandbox.graph}/{session}", content=data, headers=headers)


async def test_session_then_bytes_give_a_handle(sandbox: Sandbox) -> None:
    response = await start(sandbox, PNG)
    assert response.status_code == 200, response.text
    session = response.json()["id"]
    assert session.startswith("upload:") and "?sig=" in session

    status = await sandbox.http.get(f"{sandbox.graph}/{session}", headers=oauth(sandbox))
    assert status.json() == {"id": session, "file_offset": 0}

    done = await send(sandbox, session, PNG, 0)
    assert done.status_code == 200, done.text
    handle = done.json()["h"]
    assert handle.startswith("4::")
    # a retry that lost the answer gets the same handle
    again = await send(sandbox, session, b"", len(PNG))
    assert again.json() == {"h": handle}
    assert (await sandbox.http.get(f"{sandbox.graph}/{session}", headers=oauth(sandbox))).json()["file_offset"] == \
        len(PNG)


async def test_a_break_keeps_what_arrived_and_the_rest_resumes_from_the_offset(sandbox: Sandbox) -> None:
    await sandbox.profile(upload_cut_after_bytes=1000)
    session = (await start(sandbox, PDF, "application/pdf")).json()["id"]

    broken = await send(sandbox, session, PDF, 0)
    assert_meta_error(broken, 2, 503)
    assert (await sandbox.http.get(f"{sandbox.graph}/{session}", headers=oauth(sandbox))).json()["file_offset"] == 1000

    wrong = await send(sandbox, session, PDF[500:], 500)
    error = assert_meta_error(wrong, 100, 400)
    assert "resume from file_offset 1000" in error["error_data"]["details"]

    second = await send(sandbox, session, PDF[1000:], 1000)
    assert second.status_code == 503  # cut again after 1,000 more bytes
    await sandbox.profile(upload_cut_after_bytes=None)
    last = await send(sandbox, session, PDF[2000:], 2000)
    handle = last.json()["h"]

    template = await _image_template(sandbox, handle, fmt="DOCUMENT")
    assert template.status_code == 200, template.text
    got = await sandbox.http.get(f"{sandbox.graph}/{template.json()['id']}", params={"fields": "components"},
                                 headers=sandbox.auth)
    [url] = got.json()["components"][0]["example"]["header_handle"]
    assert url.startswith(sandbox.base + "/_sandbox/header-samples/")
    sample = await sandbox.http.get(url)
    assert (sample.status_code, sample.headers["content-type"], sample.content) == (200, "application/pdf", PDF)


async def test_parameter_errors(sandbox: Sandbox) -> None:
    assert "file_type" in assert_meta_error(await start(sandbox, PNG, "image/gif"), 100, 400)["error_data"]["details"]
    too_big = await start(sandbox, PNG, file_length=6 * 1024 * 1024)
    assert "file_length" in assert_meta_error(too_big, 100, 400)["error_data"]["details"]
    no_name = await sandbox.http.post(f"{sandbox.graph}/{APP_ID}/uploads", headers=sandbox.auth,
                                      params={"file_length": 10, "file_type": "image/png"})
    assert "file_name" in assert_meta_error(no_name, 100, 400)["error_data"]["details"]
    unknown_app = await sandbox.http.post(f"{sandbox.graph}/999000111222333/uploads", headers=sandbox.auth,
                                          params={"file_name": "a.png", "file_length": 10, "file_type": "image/png"})
    assert assert_meta_error(unknown_app, 100, 400)["error_subcode"] == 33

    session = (await start(sandbox, PNG)).json()["id"]
    assert "file_offset" in assert_meta_error(await send(sandbox, session, PNG, None), 100, 400)["error_data"][
        "details"]
    assert "more than its file_length" in assert_meta_error(await send(sandbox, session, PNG + b"xx", 0), 100, 400)[
        "error_data"]["details"]
    tampered = session.replace("?sig=", "?sig=x")
    assert assert_meta_error(await send(sandbox, tampered, PNG, 0), 100, 400)["error_subcode"] == 33
    unknown = await sandbox.http.get(f"{sandbox.graph}/upload:bm9wZQ?sig=abc", headers=oauth(sandbox))
    assert assert_meta_error(unknown, 100, 400)["error_subcode"] == 33
    no_token = await sandbox.http.post(f"{sandbox.graph}/{session}", content=PNG, headers={"file_offset": "0"})
    assert_meta_error(no_token, 190, 401)


async def test_another_apps_token_cannot_use_the_session(sandbox: Sandbox, receiver) -> None:  # type: ignore[no-untyped-def]
    other = await sandbox.http.post(f"{sandbox.base}/_sandbox/provision", json={
        "app_id": "2222333344445555", "app_secret": APP_SECRET + "x", "callback_url": receiver.url,
        "verify_token": "v", "business_name": "Other", "verified_name": "Other"})
    token = other.json()["access_token"]
    refused = await sandbox.http.post(f"{sandbox.graph}/{APP_ID}/uploads", headers={"Authorization": f"Bearer {token}"},
                                      params={"file_name": "a.png", "file_length": len(PNG), "file_type": "image/png"})
    assert_meta_error(refused, 200, 403)
    session = (await start(sandbox, PNG)).json()["id"]
    foreign = await sandbox.http.post(f"{sandbox.graph}/{session}", content=PNG,
                                      headers={**oauth(sandbox, token), "file_offset": "0"})
    assert assert_meta_error(foreign, 100, 400)["error_subcode"] == 33


async def _image_template(sandbox: Sandbox, handle: Any, *, fmt: str = "IMAGE", name: str = "diwali_offer"
                          ) -> httpx.Response:
    header: dict[str, Any] = {"type": "HEADER", "format": fmt}
    if handle is not None:
        header["example"] = {"header_handle": [handle]}
    return await sandbox.http.post(f"{sandbox.graph}/{sandbox.account['waba_id']}/message_templates",
                                   headers=sandbox.auth, json={
        "name": name, "language": "en", "category": "MARKETING",
        "components": [header, {"type": "BODY", "text": "Diwali offer: 20% off every box of chai this week."}]})


async def test_media_headers_need_a_known_handle_of_the_right_type(sandbox: Sandbox, receiver) -> None:  # type: ignore[no-untyped-def]
    missing = await _image_template(sandbox, None)
    assert assert_meta_error(missing, 100, 400)["error_subcode"] == 2388047
    made_up = await _image_template(sandbox, "4::aW1hZ2UvcG5n:not-uploaded")
    assert assert_meta_error(made_up, 100, 400)["error_subcode"] == 2494102

    session = (await start(sandbox, PNG)).json()["id"]
    handle = (await send(sandbox, session, PNG, 0)).json()["h"]
    as_video = await _image_template(sandbox, handle, fmt="VIDEO")
    assert "video/mp4" in assert_meta_error(as_video, 100, 400)["error_data"]["details"]

    # a handle uploaded by another business is not this one's
    other = await sandbox.http.post(f"{sandbox.base}/_sandbox/provision", json={
        "app_id": APP_ID, "app_secret": APP_SECRET, "callback_url": receiver.url, "verify_token": "v",
        "business_name": "Other", "verified_name": "Other"})
    other_auth = {"Authorization": f"Bearer {other.json()['access_token']}"}
    foreign = await sandbox.http.post(f"{sandbox.graph}/{other.json()['waba_id']}/message_templates",
                                      headers=other_auth, json={
        "name": "stolen", "language": "en", "category": "MARKETING",
        "components": [{"type": "HEADER", "format": "IMAGE", "example": {"header_handle": [handle]}},
                       {"type": "BODY", "text": "A sample of someone else's file."}]})
    assert assert_meta_error(foreign, 100, 400)["error_subcode"] == 2494102

    accepted = await _image_template(sandbox, handle)
    assert accepted.status_code == 200, accepted.text
    listed = await sandbox.http.get(f"{sandbox.graph}/{sandbox.account['waba_id']}/message_templates",
                                    headers=sandbox.auth, params={"fields": "name,components"})
    [item] = [t for t in listed.json()["data"] if t["name"] == "diwali_offer"]
    [url] = item["components"][0]["example"]["header_handle"]
    assert (await sandbox.http.get(url)).content == PNG
