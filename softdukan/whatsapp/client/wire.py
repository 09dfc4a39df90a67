"""A minimal HTTP/1.1 keep-alive client for many POSTs to one origin: what the broadcasts' lean sender puts on the
wire (lean.py).

At 1,000 messages a second the general-purpose clients cost more CPU than everything else a send does (measured on
a 2-core VM against an instant local server: ~160 µs per request for aiohttp, several times that for httpx, ~25 µs
for this one, all on uvloop). This one does only what a Graph send needs: a pool of persistent connections (TLS
through the shared `ssl_context`), the request written as one buffer, the answer parsed by httptools (llhttp, the
parser uvicorn uses: Content-Length and chunked bodies).

What a failure means matters more than speed, because a broadcast resends only what certainly never arrived:
- `NeverSent`: the connection could not be opened (refused, DNS, TLS, connect timeout). Nothing was written.
- `WireError`: anything after the request was written (connection lost, a malformed answer, `WireTimeout`): Meta
  may have accepted it; the caller must treat the outcome as unknown.

A pooled connection is reused only while the server keeps it alive (`should_keep_alive`) and for at most
IDLE_SECONDS of idleness, below the usual server keep-alive timeouts (uvicorn's is 5 s), so a request is not
written into a connection the server is closing.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from urllib.parse import urlsplit

import httptools

IDLE_SECONDS = 4.0


class NeverSent(Exception):
    """The connection could not be opened: the request was not written."""


class WireError(Exception):
    """The request was written but no complete answer came back: its outcome is unknown."""


class WireTimeout(WireError):
    """No complete answer within the pool's timeout."""


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[tuple[int, list[tuple[bytes, bytes]], bytes]] | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.reusable = True
        self.idle_since = 0.0

    # -- asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self.waiter is None:  # bytes nobody asked for: the connection can't be trusted any more
            self.close()
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(WireError(f"malformed HTTP answer: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.reusable = False
        self._fail(WireError(f"connection closed before the answer was complete: {exc or 'EOF'}"))

    # -- httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.reusable = self.reusable and self.parser.should_keep_alive()
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result((self.parser.get_status_code(), self.headers, b"".join(self.body)))

    # --
    def _fail(self, error: Exception) -> None:
        self.reusable = False
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)
        self.close()

    def close(self) -> None:
        self.reusable = False
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    async def exchange(self, request: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        assert self.transport is not None and self.waiter is None
        self.headers, self.body = [], []
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self.waiter


class WirePool:
    """Connections to the origin of `base_url`, at most `limit` at once. `post` returns (status, headers, body)."""

    def __init__(self, base_url: str, *, limit: int, ssl_context: ssl.SSLContext | None,
                 connect_timeout: float = 5.0, timeout: float = 30.0, headers: dict[str, str] | None = None) -> None:
        url = urlsplit(base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r:.80}")
        self.host, self.tls = url.hostname, url.scheme == "https"
        self.port = url.port or (443 if self.tls else 80)
        self.prefix = url.path.rstrip("/")
        self.ssl = (ssl_context or ssl.create_default_context()) if self.tls else None
        default_port = self.port == (443 if self.tls else 80)
        host = self.host if default_port else f"{self.host}:{self.port}"
        fixed = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        self._head = f"Host: {host}\r\nUser-Agent: softdukan\r\n{fixed}".encode("latin-1")
        self._gate = asyncio.Semaphore(limit)
        self._idle: list[_Connection] = []
        self._open: set[_Connection] = set()
        self.connect_timeout, self.timeout = connect_timeout, timeout

    async def _connection(self) -> _Connection:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()
            if conn.reusable and now - conn.idle_since < IDLE_SECONDS:
                return conn
            self._forget(conn)
        try:
            async with asyncio.timeout(self.connect_timeout):
                _, conn = await asyncio.get_running_loop().create_connection(
                    _Connection, self.host, self.port, ssl=self.ssl,
                    server_hostname=self.host if self.tls else None)
        except (OSError, ssl.SSLError, TimeoutError) as exc:
            raise NeverSent(f"could not connect to {self.host}:{self.port}: {type(exc).__name__}: {exc}") from exc
        self._open.add(conn)
        return conn

    def _forget(self, conn: _Connection) -> None:
        conn.close()
        self._open.discard(conn)

    async def post(self, path: str, body: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        request = b"".join([b"POST ", f"{self.prefix}{path}".encode("latin-1"), b" HTTP/1.1\r\n", self._head,
                            b"Content-Length: ", str(len(body)).encode(), b"\r\n\r\n", body])
        async with self._gate:
            conn = await self._connection()
            try:
                async with asyncio.timeout(self.timeout):
                    answer = await conn.exchange(request)
            except TimeoutError:
                self._forget(conn)
                raise WireTimeout(f"no answer within {self.timeout:g} s") from None
            except BaseException:  # a lost connection, or the caller cancelled mid-request
                self._forget(conn)
                raise
            if conn.reusable:
                conn.idle_since = time.monotonic()
                self._idle.append(conn)
            else:
                self._forget(conn)
            return answer

    async def close(self) -> None:
        for conn in list(self._open):
            self._forget(conn)
        self._idle.clear()
        await asyncio.sleep(0)  # let the transports run their close callbacks
