"""Contact import in the background: a 100,000-row CSV (bench/contact_import_file.py) uploaded, mapped and started
through the dashboard of a real server (`softdukan serve`: one uvicorn process with the embedded job runner), while
a signed-in person keeps using the dashboard. Reported: dashboard latency (GET /contacts and GET /, p50/p99) idle
before the import, during it and idle after it, with the ratios; the import's rows/s and wall time (start → done);
and whether its counts are exact. SQLite, and PostgreSQL when bench/postgres.py can start a cluster.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import func, select, text

import softdukan.models  # noqa: F401  every table
from bench.contact_import_file import ContactFile, make_file
from bench.postgres import cluster, pg_bin
from softdukan.config import Settings
from softdukan.contact.importing.models import ContactImport, ContactImportError
from softdukan.contact.models import Contact
from softdukan.platform.runtime import Runtime, build_runtime
from tests.support.factories import PASSWORD, csrf_from, make_org
from tests.support.plans import subscribe
from tests.support.services import free_port, wait_for_port

TITLE = "Contact import: a 100,000-row CSV imported in the background while the dashboard is used"
SECRET_KEY = "bench-import-secret-key-0123456789-abcdefghijklmnopq"
PAGES = ("/contacts", "/")
PAUSE = 0.1  # between two dashboard requests: a person clicking around, not a load test
IDLE_SECONDS = 8.0
MAPPING = {"0": "phone", "1": "name", "2": "attr:city", "3": "attr:orders", "4": "attr:joined", "5": "tags"}
ROOT = Path(__file__).resolve().parent.parent


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000 if ordered else 0.0


@dataclass
class Side:
    database: str
    rows: int
    idle_before: list[float] = field(default_factory=list)
    during: list[float] = field(default_factory=list)
    idle_after: list[float] = field(default_factory=list)
    upload_seconds: float = 0.0
    import_seconds: float = 0.0  # start → done
    polls_between: int = 0  # progress reads strictly between 0 and 100 %
    counts: str = ""
    exact: bool = False

    @property
    def rate(self) -> float:
        return self.rows / self.import_seconds if self.import_seconds else 0.0

    def line(self, name: str, values: list[float]) -> str:
        return f"| {self.database} | {name} | {len(values):,} | {_pct(values, 50):.1f} | {_pct(values, 99):.1f} |"


@dataclass
class Result:
    sides: list[Side]

    def markdown(self) -> str:
        latency, ratios, imports = [], [], []
        for s in self.sides:
            latency += [s.line("idle, before", s.idle_before), s.line("**during the import**", s.during),
                        s.line("idle, after (100k contacts)", s.idle_after)]
            for p in (50, 99):
                during = _pct(s.during, p)
                ratios.append(f"| {s.database} | p{p} | {during / max(_pct(s.idle_before, p), 1e-9):.2f} | "
                              f"{during / max(_pct(s.idle_after, p), 1e-9):.2f} |")
            imports.append(f"| {s.database} | {s.rows:,} | {s.upload_seconds:.1f} | {s.import_seconds:.1f} | "
                           f"{s.rate:,.0f} | {s.polls_between} | {s.counts} | {'yes' if s.exact else '**NO**'} |")
        return "\n".join([
            f"## {TITLE}", "",
            "One `softdukan serve` process (uvicorn, embedded job runner). A signed-in client requests "
            f"{' and '.join(f'`GET {p}`' for p in PAGES)} in turn, {PAUSE * 1000:.0f} ms apart, idle for "
            f"{IDLE_SECONDS:.0f} s before the import, all through it, and idle for {IDLE_SECONDS:.0f} s after it "
            "(on PostgreSQL after a VACUUM ANALYZE, as autovacuum runs shortly after any bulk load).", "",
            "| database | dashboard | requests | p50 (ms) | p99 (ms) |", "|---|---|---:|---:|---:|", *latency, "",
            "| database | percentile | during / idle before | during / idle after |", "|---|---|---:|---:|",
            *ratios, "",
            "| database | rows | upload + mapping page (s) | import wall time, start → done (s) | rows/s | "
            "progress reads between 0 and 100 % | created / merged / errors | counts exact |",
            "|---|---:|---:|---:|---:|---:|---|---|", *imports, "",
        ])


@contextlib.contextmanager
def _server(database_url: str) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "SOFTDUKAN_SECRET_KEY": SECRET_KEY,
           "BASE_URL": f"http://127.0.0.1:{port}", "LOG_LEVEL": "WARNING"}
    env.pop("REDIS_URL", None)
    subprocess.run([sys.executable, "-m", "softdukan.cli", "migrate"], env=env, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    process = subprocess.Popen([sys.executable, "-m", "softdukan.cli", "serve", "--port", str(port)], env=env,
                               cwd=ROOT)
    try:
        wait_for_port(port, timeout=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=20)


async def _sample(client: httpx.AsyncClient, into: list[float], stop: asyncio.Event | float) -> None:
    """Dashboard requests one after the other until `stop` is set (or for `stop` seconds)."""
    deadline = time.monotonic() + stop if isinstance(stop, float) else None
    turn = 0
    while not (stop.is_set() if isinstance(stop, asyncio.Event) else time.monotonic() >= (deadline or 0)):
        started = time.perf_counter()
        response = await client.get(PAGES[turn % len(PAGES)])
        into.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"GET {PAGES[turn % len(PAGES)]} answered {response.status_code}")
        turn += 1
        await asyncio.sleep(PAUSE)


async def _status(client: httpx.AsyncClient, url: str) -> tuple[str, int]:
    page = (await client.get(f"{url}/progress")).text
    status = re.search(r'data-status="(\w+)"', page)
    percent = re.search(r'aria-valuenow="(\d+)"', page)
    return (status.group(1) if status else "?"), int(percent.group(1)) if percent else -1


async def _drive(base_url: str, database_url: str, file: ContactFile, side: Side) -> None:
    runtime = build_runtime(Settings(database_url=database_url, softdukan_secret_key=SECRET_KEY,
                                     run_jobs_in_process=False, scheduler_in_process=False))
    try:
        org = await make_org(runtime, "Bench Import Dukan")
        await subscribe(runtime, org.org.id, "enterprise")  # unlimited contacts (the trial allows 10,000)
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
            for key, label, kind in (("city", "City", "text"), ("orders", "Orders", "number"),
                                     ("joined", "Joined", "date")):
                response = await client.post("/v1/contact-attributes", headers=org.auth,
                                             json={"key": key, "label": label, "type": kind})
                response.raise_for_status()
            page = await client.get("/sign-in")
            signed_in = await client.post("/sign-in", data={"email": org.owner.email, "password": PASSWORD,
                                                            "next": "/", "csrf_token": csrf_from(page.text)})
            assert signed_in.status_code == 303, signed_in.text
            await _sample(client, [], 2.0)  # warm-up
            await _sample(client, side.idle_before, IDLE_SECONDS)

            started = time.perf_counter()
            token = csrf_from((await client.get("/contacts/import")).text)
            upload = await client.post("/contacts/import", data={"csrf_token": token},
                                       files={"file": ("customers.csv", file.data, "text/csv")})
            assert upload.status_code == 303, upload.text[:500]
            url = upload.headers["location"]
            token = csrf_from((await client.get(url)).text)
            side.upload_seconds = time.perf_counter() - started
            started = time.perf_counter()
            begun = await client.post(f"{url}/start", data={"csrf_token": token,
                                                             **{f"col_{k}": v for k, v in MAPPING.items()}})
            assert begun.status_code == 303, begun.text[:500]
            stop = asyncio.Event()
            sampler = asyncio.create_task(_sample(client, side.during, stop))
            async with httpx.AsyncClient(base_url=base_url, timeout=60, cookies=client.cookies) as poller:
                while True:
                    status, percent = await _status(poller, url)
                    if status in ("done", "failed"):
                        break
                    side.polls_between += 0 < percent < 100
                    await asyncio.sleep(0.25)
            side.import_seconds = time.perf_counter() - started
            stop.set()
            await sampler
            if status != "done":
                raise RuntimeError(f"{side.database}: the import failed")
            await _settle(runtime)
            await _sample(client, side.idle_after, IDLE_SECONDS)
        async with runtime.sessionmaker() as session:
            item = (await session.execute(select(ContactImport))).scalar_one()
            contacts = await session.scalar(select(func.count()).select_from(Contact)
                                            .where(Contact.organization_id == org.org.id))
            errors = await session.scalar(select(func.count()).select_from(ContactImportError))
        side.counts = f"{item.created_count:,} / {item.updated_count:,} / {item.error_count:,}"
        side.exact = ((item.rows_done, item.created_count, item.updated_count, item.error_count, contacts, errors)
                      == (file.rows, file.created, file.merged, file.errors, file.created, file.errors))
        if not side.exact:
            side.counts += (f" (expected {file.created:,} / {file.merged:,} / {file.errors:,}; rows read "
                            f"{item.rows_done:,}, contacts {contacts:,}, error rows {errors:,})")
    finally:
        await runtime.close()


async def _settle(runtime: Runtime) -> None:
    """PostgreSQL: the VACUUM ANALYZE that autovacuum runs within a minute of a bulk load, done now, so the idle
    baseline after the import is the steady state rather than whatever autovacuum happens to be doing (it made
    `/contacts` take 110-180 ms for a few seconds). SQLite has nothing of the kind."""
    if runtime.engine.dialect.name != "postgresql":
        return
    async with runtime.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE"))


def _measure(database: str, database_url: str, file: ContactFile) -> Side:
    side = Side(database, file.rows)
    with _server(database_url) as base_url:
        asyncio.run(_drive(base_url, database_url, file, side))
    return side


def run(*, rows: int = 100_000, postgres: bool = True) -> Result:
    file = make_file(rows)
    sides = []
    with tempfile.TemporaryDirectory(prefix="softdukan-bench-") as tmp:
        sides.append(_measure("SQLite", f"sqlite+aiosqlite:///{Path(tmp) / 'import.db'}", file))
    if postgres and pg_bin():
        with cluster() as url:
            time.sleep(0.5)
            sides.append(_measure("PostgreSQL", url, file))
    return Result(sides)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    print(run(rows=args.rows, postgres=not args.no_postgres).markdown())
