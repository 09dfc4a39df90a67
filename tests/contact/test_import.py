"""Contact import: upload → mapping → chunked background job; bad files refused with nothing written; per-row
errors in a downloadable report; duplicates merged on the number; a killed chunk resumes without duplicates."""

from __future__ import annotations

import csv
import html
import io
import os

import httpx
import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from softdukan.contact.importing import tasks as import_tasks
from softdukan.contact.importing.chunk import ChunkPlan, read_chunk
from softdukan.contact.importing.models import ContactImport, ContactImportError
from softdukan.contact.models import Contact, ContactEvent
from softdukan.platform.uow import unit_of_work
from tests.support.factories import OrgFixture, browser_sign_in, csrf_from, make_org


async def _signed_in(client: httpx.AsyncClient, runtime) -> OrgFixture:  # type: ignore[no-untyped-def]
    org = await make_org(runtime)
    await browser_sign_in(client, org.owner.email)
    return org


async def _upload(client: httpx.AsyncClient, filename: str, data: bytes) -> httpx.Response:
    token = csrf_from((await client.get("/contacts/import")).text)
    return await client.post("/contacts/import", data={"csrf_token": token}, files={"file": (filename, data)})


async def _start(client: httpx.AsyncClient, import_url: str, mapping: dict[str, str], opt_in: bool = False
                 ) -> httpx.Response:
    token = csrf_from((await client.get(import_url)).text)
    data = {"csrf_token": token, **{f"col_{k}": v for k, v in mapping.items()}}
    if opt_in:
        data["opt_in"] = "1"
    return await client.post(f"{import_url}/start", data=data)


async def _count(runtime, model, org_id: int) -> int:  # type: ignore[no-untyped-def]
    async with runtime.sessionmaker() as session:
        return int((await session.execute(select(func.count()).select_from(model)
                                          .where(model.organization_id == org_id))).scalar_one())


async def _contacts(runtime, org_id: int) -> dict[str, Contact]:  # type: ignore[no-untyped-def]
    async with runtime.sessionmaker() as session:
        rows = (await session.execute(select(Contact).where(Contact.organization_id == org_id))).scalars().all()
        return {c.wa_id: c for c in rows}


async def test_csv_import_with_mapping_errors_report_and_merge(client, runtime, drain_jobs) -> None:
    org = await _signed_in(client, runtime)
    await client.post("/v1/contact-attributes", json={"key": "city", "label": "City", "type": "text"},
                      headers=org.auth)
    await client.post("/v1/contact-attributes", json={"key": "orders", "label": "Orders", "type": "number"},
                      headers=org.auth)
    existing = (await client.post("/v1/contacts", json={"phone": "+919812345678", "name": "Old Name",
                                                        "tags": ["Existing"]}, headers=org.auth)).json()
    opted_out = (await client.post("/v1/contacts", json={"phone": "+919812345670"}, headers=org.auth)).json()
    await client.post(f"/v1/contacts/{opted_out['id']}/opt-out", headers=org.auth)
    text = ("Mobile;Full Name;Town;Orders;Labels\r\n"
            "98123 45678;Asha Rao;Pune;3;VIP, Pune\r\n"
            "12345;Bad Number;Delhi;1;\r\n"
            "+91 98123 45679;Ravi;Mumbai;many;\r\n"
            "\r\n"
            "9812345671;Zoë Café;Goa;7;\r\n"
            "+919812345671;;Goa Beach;;Beach\r\n"
            "9812345670;Opted Out;;;\r\n")
    upload = await _upload(client, "customers.csv", text.encode("cp1252"))
    assert upload.status_code == 303, upload.text
    url = upload.headers["location"]
    page = await client.get(url)
    assert "Asha Rao" in page.text and "Map the columns" in page.text
    assert 'value="phone" selected' in page.text  # "Mobile" guessed as the phone column

    missing = await _start(client, url, {"0": "", "1": "name"})
    assert missing.status_code == 422
    assert "phone" in missing.text.lower()
    started = await _start(client, url, {"0": "phone", "1": "name", "2": "attr:city", "3": "attr:orders",
                                         "4": "tags"}, opt_in=True)
    assert started.status_code == 303, started.text
    await drain_jobs()

    async with runtime.sessionmaker() as session:
        item = (await session.execute(select(ContactImport))).scalar_one()
    assert item.status == "done", item.error
    assert item.encoding == "cp1252"
    # merged: the two existing numbers and the file's second row for 9812345671
    assert (item.created_count, item.updated_count, item.error_count) == (1, 3, 2)
    contacts = await _contacts(runtime, org.org.id)
    assert set(contacts) == {"919812345678", "919812345670", "919812345671"}
    asha = contacts["919812345678"]
    assert asha.id == existing["id"] and asha.name == "Asha Rao"
    assert asha.attributes == {"city": "Pune", "orders": 3}
    assert asha.opt_in_source == "import"
    zoe = contacts["919812345671"]  # two rows for one number: merged, later values win, tags add up
    assert zoe.name == "Zoë Café" and zoe.attributes == {"city": "Goa Beach", "orders": 7}
    assert zoe.source == "import"
    assert contacts["919812345670"].opted_out_at is not None  # an import never overrides an opt-out
    assert contacts["919812345670"].opted_in_at is None
    tags = {t for t in (await client.get(f"/v1/contacts/{existing['id']}", headers=org.auth)).json()["tags"]}
    assert tags == {"Existing", "VIP", "Pune"}
    assert (await client.get(f"/v1/contacts/{zoe.id}", headers=org.auth)).json()["tags"] == ["Beach"]

    progress = await client.get(f"{url}/progress")
    assert "Import finished" in progress.text and "hx-trigger" not in progress.text
    report = await client.get(f"{url}/errors.csv")
    assert report.status_code == 200
    rows = list(csv.reader(io.StringIO(report.text)))
    assert rows[0] == ["row", "error", "Mobile", "Full Name", "Town", "Orders", "Labels"]
    assert [r[0] for r in rows[1:]] == ["3", "4"]
    assert "Phone" in rows[1][1] and rows[1][2] == "12345"
    assert "Orders" in rows[2][1] and "many" in rows[2][1]


async def test_refused_files_write_nothing(client, runtime) -> None:
    org = await _signed_in(client, runtime)
    cases = [("empty.csv", b"", "empty"),
             ("junk.csv", os.urandom(1024 * 1024), "not a text csv"),
             ("utf16.csv", "phone\n9812345678\n".encode("utf-16"), "utf-16"),
             ("old.xls", b"\xd0\xcf\x11\xe0" + b"\x00" * 100, ".xls"),
             ("broken.xlsx", b"PK\x03\x04" + b"junk" * 100, "excel file can't be read"),
             ("headers-only.csv", b"phone,name\n", "no contacts"),
             ("one-long-line.csv", b"a" * 300_000, "not a readable csv"),
             ("wide-header.csv", b"x" * 500 + b",phone\n1,2\n", "longer than")]
    for filename, data, reason in cases:
        response = await _upload(client, filename, data)
        assert response.status_code == 422, (filename, response.status_code)
        assert reason in html.unescape(response.text).lower(), (filename, response.text[-2000:])
    no_file = await client.post("/contacts/import", data={"csrf_token": csrf_from((await client.get(
        "/contacts/import")).text)})
    assert no_file.status_code == 422
    assert await _count(runtime, ContactImport, org.org.id) == 0


async def test_upload_above_the_limit_is_refused_before_it_is_read(client, runtime) -> None:
    org = await _signed_in(client, runtime)
    token = csrf_from((await client.get("/contacts/import")).text)
    big = b"phone\n" + b"9812345678\n" * (21 * 1024 * 1024 // 11)
    response = await client.post("/contacts/import", data={"csrf_token": token}, files={"file": ("big.csv", big)})
    assert response.status_code == 413
    assert "larger than 20 MB" in response.text
    assert await _count(runtime, ContactImport, org.org.id) == 0


async def test_xlsx_import(client, runtime, drain_jobs) -> None:
    org = await _signed_in(client, runtime)
    await client.post("/v1/contact-attributes", json={"key": "joined", "label": "Joined", "type": "date"},
                      headers=org.auth)
    from datetime import datetime

    book = Workbook()
    sheet = book.active
    sheet.append(["Name", "Phone", "Joined"])
    sheet.append(["Asha", 919812345678, datetime(2024, 5, 1)])
    sheet.append(["Ravi", "+91 98123 45679", "01/06/2024"])
    sheet.append([None, None, None])
    sheet.append(["Nobody", "abc", None])
    buffer = io.BytesIO()
    book.save(buffer)
    upload = await _upload(client, "list.xlsx", buffer.getvalue())
    assert upload.status_code == 303, upload.text
    url = upload.headers["location"]
    assert (await _start(client, url, {"0": "name", "1": "phone", "2": "attr:joined"})).status_code == 303
    await drain_jobs()
    contacts = await _contacts(runtime, org.org.id)
    assert {w: (c.name, c.attributes) for w, c in contacts.items()} == {
        "919812345678": ("Asha", {"joined": "2024-05-01"}), "919812345679": ("Ravi", {"joined": "2024-06-01"})}
    async with runtime.sessionmaker() as session:
        item = (await session.execute(select(ContactImport))).scalar_one()
        errors = (await session.execute(select(ContactImportError))).scalars().all()
    assert item.status == "done" and item.format == "csv"
    assert [e.row_number for e in errors] == [5]


def _big_csv(rows: int) -> bytes:
    lines = ["phone,name,tags"]
    for n in range(rows):
        lines.append(f"+9198{n:08d},Customer {n},Batch")
        if n % 500 == 7:
            lines.append(f"+9198{n:08d},Customer {n} again,Repeat")  # a duplicate of the row above
        if n % 400 == 3:
            lines.append(f"bad-{n},Broken,")
    return ("\n".join(lines) + "\n").encode()


async def test_two_thousand_rows_import_in_chunks_and_a_killed_chunk_resumes(client, runtime, drain_jobs,
                                                                              monkeypatch) -> None:
    org = await _signed_in(client, runtime)
    monkeypatch.setattr(import_tasks, "CHUNK_ROWS", 500)
    upload = await _upload(client, "big.csv", _big_csv(2000))
    url = upload.headers["location"]
    assert (await _start(client, url, {"0": "phone", "1": "name", "2": "tags"})).status_code == 303
    import_id = int(url.rsplit("/", 1)[1])

    async with unit_of_work(runtime) as uow:  # first chunk
        await import_tasks.import_chunk(uow, import_id)
    first = await _count(runtime, Contact, org.org.id)
    assert 0 < first < 2000

    class Killed(Exception):
        pass

    original = import_tasks._write

    async def dies_after_writing(uow, item, chunk):  # type: ignore[no-untyped-def]
        await original(uow, item, chunk)
        await uow.flush()
        raise Killed  # the process died before the chunk's transaction committed

    monkeypatch.setattr(import_tasks, "_write", dies_after_writing)
    with pytest.raises(Killed):
        async with unit_of_work(runtime) as uow:
            await import_tasks.import_chunk(uow, import_id)
    assert await _count(runtime, Contact, org.org.id) == first  # nothing of the killed chunk stayed
    monkeypatch.setattr(import_tasks, "_write", original)

    await drain_jobs()
    async with runtime.sessionmaker() as session:
        item = await session.get(ContactImport, import_id)
        assert item is not None
    assert item.status == "done", item.error
    assert await _count(runtime, Contact, org.org.id) == 2000
    assert item.error_count == 5 and await _count(runtime, ContactImportError, org.org.id) == 5
    assert item.created_count == 2000
    assert item.rows_done == item.total_rows
    repeated = await client.get("/v1/contacts", params={"tag": "Repeat"}, headers=org.auth)
    assert len(repeated.json()["data"]) == 4
    assert all(c["name"].endswith("again") for c in repeated.json()["data"])

    async with unit_of_work(runtime) as uow:  # a stray run after the end changes nothing
        await import_tasks.import_chunk(uow, import_id)
    assert await _count(runtime, Contact, org.org.id) == 2000
    assert await _count(runtime, ContactEvent, org.org.id) == 0


async def test_a_second_run_of_the_same_chunk_writes_nothing(client, runtime) -> None:
    org = await _signed_in(client, runtime)
    upload = await _upload(client, "small.csv", b"phone\n+919812345678\n+919812345679\nnope\n")
    url = upload.headers["location"]
    await _start(client, url, {"0": "phone"})
    import_id = int(url.rsplit("/", 1)[1])
    async with runtime.sessionmaker() as session:
        stale = await session.get(ContactImport, import_id)
        assert stale is not None
        session.expunge(stale)
    async with unit_of_work(runtime) as uow:
        await import_tasks.import_chunk(uow, import_id)
    # a late duplicate run that read the import before the first committed: the compare-and-set refuses it
    async with unit_of_work(runtime) as uow:
        plan = ChunkPlan(organization_id=org.org.id, import_id=import_id, delimiter=",", region="IN",
                         mapping={"0": "phone"}, definitions={}, first_row_number=2)
        chunk = read_chunk(b"+919812345678\n+919812345679\nnope\n", True, plan, 1000)
        claimed = await import_tasks.ImportRepository(uow.session).advance(
            import_id, expected_rows_done=stale.rows_done, expected_format="csv", rows_done=chunk.rows_read)
    assert claimed is False
    assert await _count(runtime, Contact, org.org.id) == 2
    assert await _count(runtime, ContactImportError, org.org.id) == 1


async def test_an_import_stops_adding_contacts_at_the_plan_limit(client, runtime, drain_jobs, monkeypatch) -> None:
    """The limit can be reached in the middle of a file: new numbers past it are error rows saying so; numbers
    that exist still merge."""
    from softdukan.plan.service import by_code, save_plan

    org = await _signed_in(client, runtime)
    async with unit_of_work(runtime) as uow:  # staff lowered Basic's contact limit (the trial follows Basic)
        basic = await by_code(uow.session, "basic", uow.clock.now())
        await save_plan(uow.session, code="basic", name=basic.name, description=basic.description,
                        yearly_price_paise=basic.yearly_price_paise, features=list(basic.features),
                        limits={**basic.limits, "contacts": 5}, active=True, now=uow.clock.now(), create=False)
    await client.post("/v1/contacts", json={"phone": "+919800000001", "name": "Known"}, headers=org.auth)
    monkeypatch.setattr(import_tasks, "CHUNK_ROWS", 3)  # the limit falls inside the second chunk
    rows = "".join(f"+9198000000{i:02d},Person {i}\n" for i in range(1, 9))  # 01 exists, 02..08 are new
    upload = await _upload(client, "people.csv", ("phone,name\n" + rows).encode())
    url = upload.headers["location"]
    assert (await _start(client, url, {"0": "phone", "1": "name"})).status_code == 303
    for _ in range(4):
        await drain_jobs()
    contacts = await _contacts(runtime, org.org.id)
    assert len(contacts) == 5 and contacts["919800000001"].name == "Person 1"  # merged, and 4 new ones
    async with runtime.sessionmaker() as session:
        item = await session.scalar(select(ContactImport).where(ContactImport.organization_id == org.org.id))
        errors = (await session.execute(select(ContactImportError.message).where(
            ContactImportError.import_id == item.id))).scalars().all()  # type: ignore[union-attr]
    assert item is not None and item.status == "done" and (item.created_count, item.error_count) == (4, 3)
    assert len(errors) == 3 and all("plan allows 5 contacts" in e for e in errors)
