"""The standalone sandbox for the broadcast benchmark: `softdukan sandbox` as a subprocess on its own database,
a provisioned number with an approved MARKETING template, and a small load driver for its send endpoint.

Alone (`python -m bench.broadcast_sandbox --requests 20000`) it measures how many template sends per second one
sandbox process accepts with 64 concurrent requests (throughput enforcement off), which must stay well above the
1,000 messages/s ceiling the broadcast benchmark sets.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench import loadgen
from bench.postgres import cluster
from tests.support.services import free_port, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "bench-sandbox-secret-key-0123456789-abcdefghijklmnop"
TEMPLATE = "diwali_offer"
TEMPLATE_BODY = "Namaste {{1}}, our Diwali sale is on: 20% off sweets until Sunday."


@dataclass
class Account:
    base: str  # http://127.0.0.1:port/sandbox/graph
    business_id: str
    waba_id: str
    phone_number_id: str
    access_token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


@contextlib.contextmanager
def standalone(database_url: str, *, log_level: str = "WARNING") -> Iterator[str]:
    """`softdukan sandbox` on a free port (it migrates its database first); yields its Graph base URL."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "SOFTDUKAN_SECRET_KEY": SECRET_KEY, "LOG_LEVEL": log_level}
    env.pop("REDIS_URL", None)
    process = subprocess.Popen([sys.executable, "-m", "softdukan.cli", "sandbox", "--port", str(port)], env=env,
                               cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        wait_for_port(port, timeout=60)
        yield f"http://127.0.0.1:{port}/sandbox/graph"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def control(http: httpx.AsyncClient, base: str, method: str, path: str, body: Any = None) -> Any:
    response = await http.request(method, f"{base}/_sandbox{path}", json=body)
    if response.status_code != 200:
        raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
    return response.json()


async def set_profile(base: str, **changes: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=30) as http:
        return dict(await control(http, base, "PUT", "/profile", changes))


async def provision(base: str, *, callback_url: str | None = None) -> Account:
    """A number at TIER_UNLIMITED with an approved MARKETING template named TEMPLATE (en)."""
    async with httpx.AsyncClient(timeout=30) as http:
        account = await control(http, base, "POST", "/provision", {
            "app_id": "4242424242424242", "app_secret": "bench-app-secret", "callback_url": callback_url,
            "business_name": "Bench Dukan", "verified_name": "Bench Dukan"})
        found = Account(base, account["business_id"], account["waba_id"], account["phone_number_id"],
                        account["access_token"])
        await control(http, base, "POST", f"/phone-numbers/{found.phone_number_id}/state",
                      {"messaging_limit_tier": "TIER_UNLIMITED"})
        await create_template(http, found)
        return found


async def create_template(http: httpx.AsyncClient, account: Account) -> str:
    response = await http.post(f"{account.base}/v24.0/{account.waba_id}/message_templates", headers=account.auth,
                               json={"name": TEMPLATE, "language": "en", "category": "MARKETING",
                                     "components": [{"type": "BODY", "text": TEMPLATE_BODY,
                                                     "example": {"body_text": [["Asha"]]}}]})
    if response.status_code != 200:
        raise RuntimeError(f"template: {response.status_code} {response.text}")
    template_id = str(response.json()["id"])
    await control(http, account.base, "POST", f"/templates/{template_id}/status", {"status": "APPROVED"})
    return template_id


def template_message(to: str, name: str = "Asha", *, opaque: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "messaging_product": "whatsapp", "to": to, "type": "template",
        "template": {"name": TEMPLATE, "language": {"code": "en"},
                     "components": [{"type": "body", "parameters": [{"type": "text", "text": name}]}]}}
    if opaque:
        body["biz_opaque_callback_data"] = opaque
    return body


@dataclass
class Load:
    sent: int
    seconds: float
    statuses: dict[int, int]
    codes: dict[int, int]

    @property
    def rate(self) -> float:
        return self.sent / self.seconds


async def load(account: Account, requests: int, *, concurrency: int = 64, first_number: int = 919700000000) -> Load:
    """`requests` template sends to distinct recipients, `concurrency` at a time, as fast as they are answered."""
    statuses: dict[int, int] = {}
    codes: dict[int, int] = {}
    url = f"{account.base}/v24.0/{account.phone_number_id}/messages"
    counter = iter(range(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(timeout=60, limits=limits, headers=account.auth) as http:
        async def worker() -> None:
            for index in counter:
                response = await http.post(url, json=template_message(str(first_number + index)))
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                if response.status_code != 200:
                    code = int(response.json().get("error", {}).get("code", 0))
                    codes[code] = codes.get(code, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return Load(requests, time.perf_counter() - started, statuses, codes)


async def load_raw(account: Account, requests: int, *, concurrency: int = 64,
                   first_number: int = 919700000000) -> Load:
    """The same sends through bench/loadgen.py (prepared bytes over keep-alive connections): far less client CPU
    than httpx, so the sandbox, not the client, is what saturates."""
    parts = urlsplit(account.base)
    host, path = f"{parts.hostname}:{parts.port}", f"{parts.path}/v24.0/{account.phone_number_id}/messages"

    def make(index: int) -> bytes:
        body = json.dumps(template_message(str(first_number + index)), separators=(",", ":")).encode()
        return loadgen.build_request(host, path, body, account.auth)

    outcome = await loadgen.saturate(int(parts.port or 80), make, requests, concurrency)
    return Load(outcome.sent, outcome.elapsed, outcome.statuses, {})


async def _measure(base: str, requests: int, concurrency: int, rounds: int, raw: bool) -> list[Load]:
    account = await provision(base)
    await set_profile(base, enforce_throughput=False, enforce_pair_rate=False, sent_after_seconds=3600)
    await load(account, 300, concurrency=concurrency, first_number=919600000000)  # warm-up
    results = []
    for round_no in range(rounds):
        results.append(await (load_raw if raw else load)(account, requests, concurrency=concurrency,
                                                         first_number=919700000000 + round_no * 1_000_000))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--raw", action="store_true", help="bench/loadgen.py instead of httpx")
    args = parser.parse_args(argv)
    targets: list[tuple[str, Any]] = []
    if not args.no_sqlite:
        targets.append(("SQLite", None))
    if not args.no_postgres:
        targets.append(("PostgreSQL", cluster))
    for name, make in targets:
        with contextlib.ExitStack() as stack:
            if make is None:
                tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="softdukan-bench-sandbox-"))
                url = f"sqlite+aiosqlite:///{Path(tmp) / 'sandbox.db'}"
            else:
                url = stack.enter_context(make())
            base = stack.enter_context(standalone(url))
            for result in asyncio.run(_measure(base, args.requests, args.concurrency, args.rounds, args.raw)):
                print(f"{name}: {result.sent} sends in {result.seconds:.1f} s = {result.rate:,.0f}/s; "
                      f"statuses {result.statuses} codes {result.codes}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
