"""A 100,000-row contact file imported in the background by a real server (uvicorn, embedded job runner) through
the dashboard's upload → mapping → start, while the dashboard keeps answering: exact counts, every refused row in
the error report with its reason, and dashboard pages served between the import's chunks. Slicing the stored file
into windows never changes what a row reads as. No timing is asserted (bench/contact_import.py measures it)."""

from __future__ import annotations

import asyncio
import csv
import io
import math
import os
import re
from concurrent.futures import ProcessPoolExecutor

import httpx
from sqlalchemy import func, select

from softdukan.contact.importing import offload
from softdukan.contact.importing import tasks as import_tasks
from softdukan.contact.importing.chunk import ChunkPlan, read_chunk
from softdukan.contact.importing.models import ContactImport
from softdukan.contact.importing.parse import window_rows
from softdukan.contact.importing.service import IMPORT_TASK
from softdukan.contact.models import Contact
from softdukan.platform.jobs.models import Job
from tests.support.factories import browser_sign_in, csrf_from, make_org
from tests.support.plans import subscribe

ROWS = 100_000
EXISTING = (10, 50_010, 99_910)  # rows whose number is a contact already
BAD_PHONES = ("12345", "not a number", "+91 98123 456789")


def _number(i: int) -> str:
    return f"9{i:09d}"


def _phone(i: int, style: int) -> str:
    ten = _number(i)
    return (f"+91 {ten[:5]} {ten[5:]}", f"0{ten}", ten, f"91-{ten[:5]}-{ten[5:]}")[style % 4]


def _file() -> tuple[bytes, dict[str, int], dict[int, str]]:
    """The file, its expected counts, and the spreadsheet row number → start of the reason of each refused row."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Phone", "Name", "Orders", "Tags"])
    counts = {"blank": 0, "created": 0, "merged": 0}
    refused: dict[int, str] = {}
    for i in range(ROWS):
        if i % 10_000 == 5000:
            writer.writerow([])
            counts["blank"] += 1
        elif i % 100 == 99:
            writer.writerow([BAD_PHONES[i % 3], f"Bad {i}", "1", ""])
            refused[i + 2] = "Phone:"
        elif i % 100 == 98:  # an earlier row's number written another way, often in an earlier chunk: merged
            source = i - 550 if i >= 550 else i - 50
            writer.writerow([_phone(source, i + 1), f"Again {source}", "2", "Repeat"])
            counts["merged"] += 1
        elif i % 250 == 7:
            writer.writerow([_phone(i, i), f"Name {i}", "many", ""])
            refused[i + 2] = "Orders:"
        else:
            writer.writerow([_phone(i, i), f"Name {i}", str(i % 50), f"Batch {i % 3}"])
            counts["merged" if i in EXISTING else "created"] += 1
    return out.getvalue().encode(), counts, refused


async def _progress(client: httpx.AsyncClient, url: str) -> tuple[str, int]:
    page = (await client.get(f"{url}/progress")).text
    status, percent = re.search(r'data-status="(\w+)"', page), re.search(r'aria-valuenow="(\d+)"', page)
    assert status and percent, page
    return status.group(1), int(percent.group(1))


async def test_a_100k_row_file_imports_in_the_background_while_the_dashboard_answers(runtime, live_server) -> None:
    org = await make_org(runtime)
    await subscribe(runtime, org.org.id, "enterprise")  # unlimited contacts: the trial's Basic allows 10,000
    data, expected, refused = _file()
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as client:
        attribute = await client.post("/v1/contact-attributes", headers=org.auth,
                                      json={"key": "orders", "label": "Orders", "type": "number"})
        assert attribute.status_code == 201, attribute.text
        for i in EXISTING:
            made = await client.post("/v1/contacts", json={"phone": f"+91{_number(i)}", "name": "Known"},
                                     headers=org.auth)
            assert made.status_code == 201, made.text
        await browser_sign_in(client, org.owner.email)
        token = csrf_from((await client.get("/contacts/import")).text)
        upload = await client.post("/contacts/import", data={"csrf_token": token},
                                   files={"file": ("customers.csv", data, "text/csv")})
        assert upload.status_code == 303, upload.text[:500]
        url = upload.headers["location"]
        token = csrf_from((await client.get(url)).text)
        started = await client.post(f"{url}/start", data={"csrf_token": token, "col_0": "phone", "col_1": "name",
                                                          "col_2": "attr:orders", "col_3": "tags"})
        assert started.status_code == 303, started.text[:500]

        served_mid_import: list[tuple[int, int]] = []  # (progress before, after) around dashboard pages
        status, percent = await _progress(client, url)
        while status not in ("done", "failed"):
            pages = [await client.get(path) for path in ("/contacts", "/")]
            assert [p.status_code for p in pages] == [200, 200]
            status, after = await _progress(client, url)
            if percent > 0 and after < 100 and status == "running":
                served_mid_import.append((percent, after))
            percent = after
            await asyncio.sleep(0.2)  # a person using the dashboard, not a load test
        assert status == "done"
        # the dashboard was served again and again while the import was part-way, and the import moved on meanwhile
        assert len(served_mid_import) >= 3, served_mid_import
        assert len({after for _, after in served_mid_import}) >= 3, served_mid_import

        report = await client.get(f"{url}/errors.csv")
        assert report.status_code == 200
        lines = list(csv.reader(io.StringIO(report.text)))

    async with runtime.sessionmaker() as session:
        item = (await session.execute(select(ContactImport))).scalar_one()
        contacts = await session.scalar(select(func.count()).select_from(Contact)
                                        .where(Contact.organization_id == org.org.id))
        runs = await session.scalar(select(func.count()).select_from(Job).where(Job.name == IMPORT_TASK))
        sample = (await session.execute(select(Contact).where(Contact.organization_id == org.org.id,
                                                              Contact.wa_id == "91" + _number(48)))).scalar_one()
    assert (item.rows_done, item.total_rows) == (ROWS, ROWS)
    assert (item.created_count, item.updated_count, item.error_count) == (
        expected["created"], expected["merged"], len(refused))
    assert contacts == expected["created"] + len(EXISTING)
    assert runs == math.ceil(ROWS / import_tasks.CHUNK_ROWS)  # one job run per chunk, each after the last
    assert sample.name == "Again 48" and sample.attributes == {"orders": 2}  # rows 98 and 598 merged into row 48

    assert lines[0] == ["row", "error", "Phone", "Name", "Orders", "Tags"]
    assert {int(r[0]): r[1].split(" ", 1)[0] for r in lines[1:]} == refused
    assert len(lines) - 1 == len(refused)


def _all_rows(data: bytes, window: int) -> list[tuple[int, list[str]]]:
    """Every row of `data`, read the way the job reads: slice after slice of `window` bytes, growing a slice
    that holds no whole row."""
    rows: list[tuple[int, list[str]]] = []
    offset, number = 0, 2
    while offset < len(data):
        size = window
        while True:
            piece = data[offset:offset + size]
            found = list(window_rows(piece, offset + size >= len(data), ",", number))
            if found or offset + size >= len(data):
                break
            size *= 4
        rows += [(n, cells) for n, cells, _ in found]
        offset += found[-1][2]
        number = found[-1][0] + 1
    return rows


def test_slices_of_the_file_read_exactly_like_the_whole_file() -> None:
    text = ('+91 98123 45678,Zoë Café,"multi\nline, with ""quotes"""\r\n'
            '\r\n'
            '9812345679,Ravi,"€ ₹ 😀"\n'
            '"+91 98123 45670","a ""long"" name that is longer than a tiny window",x\r\n'
            '9812345671,last,no newline at the end')
    data = text.encode()
    whole = list(csv.reader(io.StringIO(text, newline="")))
    for window in (1, 3, 7, 16, 64, len(data), len(data) + 10):
        assert _all_rows(data, window) == list(enumerate(whole, start=2)), window


def test_a_chunk_counts_merged_rows_the_same_wherever_it_is_cut() -> None:
    data = "".join(f"{_phone(i % 7, i)},n{i}\n" for i in range(40)).encode()
    plan = ChunkPlan(organization_id=1, import_id=1, delimiter=",", region="IN", mapping={"0": "phone", "1": "name"},
                     definitions={}, first_row_number=2)
    for limit in (1, 5, 13, 40):
        valid, distinct, offset = 0, set(), 0
        while offset < len(data):
            chunk = read_chunk(data[offset:], True, plan, limit)
            valid += chunk.valid_rows
            distinct |= set(chunk.rows)
            offset += chunk.bytes_read
        assert (valid, len(distinct)) == (40, 7), limit


async def test_rows_are_parsed_in_the_helper_process_or_else_in_a_thread(monkeypatch) -> None:
    assert await offload.run(os.getpid) != os.getpid()  # its own GIL: the server's event loop keeps running

    stopped = ProcessPoolExecutor(max_workers=1)
    stopped.shutdown()
    monkeypatch.setattr(offload, "_executor", lambda: stopped)
    assert await offload.run(os.getpid) == os.getpid()  # no helper: the work is still done
