"""A small, fast HTTP/1.1 load generator: pre-built requests over keep-alive connections.

httpx costs more CPU per request than the server under test does for a bare endpoint, which would flatter
every ratio; this writes prepared bytes and reads the status line and body by Content-Length.

Two modes: closed loop (`saturate`: N connections, each sends its next request as soon as the last is
answered; gives the maximum rate) and open loop (`paced`: requests start on a fixed schedule whatever the
answers' latency, so queueing shows up in the latency percentiles).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Outcome:
    sent: int = 0
    failed: int = 0  # non-2xx or broken connection
    latencies: list[float] = field(default_factory=list)  # seconds
    elapsed: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return (self.sent - self.failed) / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def build_request(host: str, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", "Content-Type: application/json",
             f"Content-Length: {len(body)}", "Connection: keep-alive"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class _Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def exchange(self, request: bytes) -> int:
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        if length:
            await self.reader.readexactly(length)
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
            self.writer = self.reader = None


async def _one(conn: _Connection, request: bytes, outcome: Outcome) -> None:
    started = time.perf_counter()
    try:
        status = await conn.exchange(request)
    except (OSError, asyncio.IncompleteReadError, ValueError):
        status = 0
        await conn.close()
    outcome.latencies.append(time.perf_counter() - started)
    outcome.sent += 1
    outcome.statuses[status] = outcome.statuses.get(status, 0) + 1
    if not 200 <= status < 300:
        outcome.failed += 1


async def saturate(port: int, make_request: Callable[[int], bytes], total: int, connections: int) -> Outcome:
    """Closed loop: `connections` clients share `total` requests, each sending as soon as it got its answer."""
    outcome = Outcome()
    counter = iter(range(total))
    conns = [_Connection("127.0.0.1", port) for _ in range(connections)]

    async def client(conn: _Connection) -> None:
        for index in counter:
            await _one(conn, make_request(index), outcome)

    started = time.perf_counter()
    await asyncio.gather(*(client(c) for c in conns))
    outcome.elapsed = time.perf_counter() - started
    await asyncio.gather(*(c.close() for c in conns))
    return outcome


async def paced(port: int, make_request: Callable[[int], bytes], rate: float, seconds: float,
                connections: int = 64) -> Outcome:
    """Open loop: request i starts at i / rate seconds whatever happened before (a pool of idle connections)."""
    outcome = Outcome()
    total = max(1, int(rate * seconds))
    idle: asyncio.Queue[_Connection] = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(_Connection("127.0.0.1", port))
    tasks: list[asyncio.Task[None]] = []

    async def fire(index: int, due: float) -> None:
        conn = await idle.get()
        request = make_request(index)
        started = time.perf_counter()
        try:
            status = await conn.exchange(request)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            status = 0
            await conn.close()
        # latency counts from the scheduled start: waiting for a free connection is queueing too
        outcome.latencies.append(time.perf_counter() - min(due, started))
        outcome.sent += 1
        outcome.statuses[status] = outcome.statuses.get(status, 0) + 1
        if not 200 <= status < 300:
            outcome.failed += 1
        idle.put_nowait(conn)

    begin = time.perf_counter()
    for index in range(total):
        due = begin + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(fire(index, due)))
    await asyncio.gather(*tasks)
    outcome.elapsed = time.perf_counter() - begin
    while not idle.empty():
        await idle.get_nowait().close()
    return outcome
