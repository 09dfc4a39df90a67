"""The broadcasts' HTTP/1.1 client (whatsapp/client/wire.py) against a scripted server on a real socket: answers
parsed whatever their framing, connections kept alive only while they may be, and every failure classed as
never sent (nothing written) or unknown (written, no complete answer) — the distinction a broadcast's resend
rests on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from softdukan.conversation.tasks import never_sent
from softdukan.whatsapp.client import GraphTransportError, wire
from softdukan.whatsapp.client.lean import LeanSender
from softdukan.whatsapp.client.wire import NeverSent, WireError, WirePool, WireTimeout
from softdukan.whatsapp.messages import TextMessage
from tests.support.services import free_port

OK = b'{"messaging_product":"whatsapp","contacts":[{"input":"1","wa_id":"1"}],"messages":[{"id":"wamid.A"}]}'


def fixed(body: bytes, *, extra: bytes = b"", status: bytes = b"200 OK") -> bytes:
    return b"HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s" % (
        status, len(body), extra, body)


def chunked(body: bytes) -> bytes:
    half = len(body) // 2
    parts = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in (body[:half], body[half:]))
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + parts + \
        b"0\r\n\r\n"


class Server:
    """Answers each request with what `reply(n)` returns (n counts requests; None: close without answering;
    b"": never answer). Records connections and the raw requests."""

    def __init__(self, reply: Callable[[int], bytes | None]) -> None:
        self.reply, self.connections, self.requests = reply, 0, []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:"))
                self.requests.append(head + await reader.readexactly(length))
                answer = self.reply(len(self.requests))
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Callable[[int], bytes | None]], asyncio.Future[tuple[Server, str]]]]:
    servers: list[asyncio.Server] = []

    async def start(reply: Callable[[int], bytes | None]) -> tuple[Server, str]:
        server, port = Server(reply), free_port()
        servers.append(await asyncio.start_server(server.handle, "127.0.0.1", port))
        return server, f"http://127.0.0.1:{port}/graph"

    yield start  # type: ignore[misc]
    for s in servers:
        s.close()


async def test_keep_alive_answers_in_both_framings_over_one_connection(serve) -> None:
    server, url = await serve(lambda n: fixed(OK) if n % 2 else chunked(OK))
    pool = WirePool(url, limit=4, ssl_context=None, headers={"Authorization": "Bearer t"})
    try:
        answers = [await pool.post("/v24.0/1/messages", b'{"n":%d}' % i) for i in range(4)]
    finally:
        await pool.close()
    assert [(status, body) for status, _, body in answers] == [(200, OK)] * 4
    assert server.connections == 1
    first = server.requests[0]
    assert first.startswith(b"POST /graph/v24.0/1/messages HTTP/1.1\r\n")
    assert b"\r\nAuthorization: Bearer t\r\n" in first and first.endswith(b'{"n":0}')


async def test_a_connection_the_server_closes_is_not_reused(serve, monkeypatch) -> None:
    server, url = await serve(lambda n: fixed(OK, extra=b"Connection: close\r\n") if n == 1 else fixed(OK))
    pool = WirePool(url, limit=4, ssl_context=None)
    try:
        await pool.post("/a", b"1")
        await pool.post("/a", b"2")
        assert server.connections == 2
        monkeypatch.setattr(wire, "IDLE_SECONDS", 0.0)  # idle too long: a fresh connection, not a stale one
        await pool.post("/a", b"3")
        assert server.connections == 3
    finally:
        await pool.close()


async def test_failures_are_never_sent_only_when_nothing_was_written(serve) -> None:
    closed, url = await serve(lambda n: None)  # reads the request, then hangs up
    pool = WirePool(url, limit=1, ssl_context=None)
    with pytest.raises(WireError) as lost:
        await pool.post("/a", b"x")
    assert not isinstance(lost.value, NeverSent) and closed.requests == [closed.requests[0]]
    await pool.close()

    _, url = await serve(lambda n: b"HTTP/1.1 200 OK\r\nContent-Length: nonsense\r\n\r\n")
    pool = WirePool(url, limit=1, ssl_context=None)
    with pytest.raises(WireError):
        await pool.post("/a", b"x")
    await pool.close()

    _, url = await serve(lambda n: b"")  # never answers
    pool = WirePool(url, limit=1, ssl_context=None, timeout=0.3)
    with pytest.raises(WireTimeout):
        await pool.post("/a", b"x")
    await pool.close()

    pool = WirePool(f"http://127.0.0.1:{free_port()}", limit=1, ssl_context=None)
    with pytest.raises(NeverSent):
        await pool.post("/a", b"x")
    await pool.close()


async def test_the_lean_sender_classes_a_lost_answer_as_maybe_sent(serve) -> None:
    answers = {1: fixed(OK), 2: None}
    server, url = await serve(lambda n: answers.get(n))
    lean = LeanSender(base_url=url, version="v24.0", access_token="t")
    try:
        sent = await lean.send("123", TextMessage("hi"), "919812300001")
        with pytest.raises(GraphTransportError) as lost:
            await lean.send("123", TextMessage("hi"), "919812300001")
    finally:
        await lean.aclose()
    assert sent.wamid == "wamid.A" and not never_sent(lost.value)
    assert len(server.requests) == 2


async def test_a_graph_refusal_and_a_non_json_success_are_decoded_as_graph_client_does(serve) -> None:
    refusal = b'{"error":{"message":"(#131030) Recipient not in allowed list","type":"OAuthException","code":131030}}'
    answers = {1: fixed(refusal, status=b"400 Bad Request"), 2: fixed(b"<html>ok</html>")}
    _, url = await serve(lambda n: answers.get(n))
    lean = LeanSender(base_url=url, version="v24.0", access_token="t")
    try:
        with pytest.raises(Exception) as refused:
            await lean.send("123", TextMessage("hi"), "919812300001")
        with pytest.raises(Exception) as unreadable:
            await lean.send("123", TextMessage("hi"), "919812300001")
    finally:
        await lean.aclose()
    assert getattr(refused.value, "code", None) == 131030 and never_sent(refused.value)  # type: ignore[arg-type]
    assert type(unreadable.value).__name__ == "UnexpectedResponseError" and not never_sent(unreadable.value)  # type: ignore[arg-type]
