"""Live events: both hubs, publish-after-commit, and the dashboard's SSE stream end to end.

Negative checks ("B never got A's event") need no sleeping: each stream is first-in first-out, so a later event
the reader may see arriving first proves the earlier one was never delivered.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.pool import QueuePool

from softdukan.auth.roles import role_service
from softdukan.auth.subject import Subject
from softdukan.config import Settings
from softdukan.main import create_app
from softdukan.notification.models import OutboundEmail
from softdukan.organization.events import MemberJoined
from softdukan.organization.service import organization_service
from softdukan.platform.events import Event
from softdukan.platform.realtime import views
from softdukan.platform.realtime.hub import Hub, MemoryHub
from softdukan.platform.realtime.redis_hub import RedisHub, channel_for
from softdukan.platform.runtime import Runtime
from softdukan.platform.uow import unit_of_work
from tests.support.factories import PASSWORD, OrgFixture, browser_sign_in, make_org

DEADLINE = 10.0  # seconds to wait for something that should happen; never a measure of speed


@dataclass(frozen=True, kw_only=True)
class Pinged(Event):
    type = "test.pinged"
    note: str


def envelope(organization_id: int, note: str, **extra: Any) -> dict[str, Any]:
    return {**Pinged(organization_id=organization_id, note=note).envelope(), **extra}


def unique_org_id() -> int:
    return uuid.uuid4().int % 10**12  # Redis outlives the test; never reuse another test's channel


async def next_of(events: AsyncIterator[dict[str, Any]]) -> dict[str, Any]:
    async with asyncio.timeout(DEADLINE):
        return await anext(events)


async def eventually(probe: Callable[[], Awaitable[int]], expected: int) -> None:
    async with asyncio.timeout(DEADLINE):
        while await probe() != expected:  # noqa: ASYNC110  polling a remote server's state, not a local flag
            await asyncio.sleep(0.02)


# -- the hubs -----------------------------------------------------------------------------------


@pytest.fixture(params=["memory", "redis"])
async def hubs(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Hub, Hub]]:
    """(publisher, subscriber): one in-memory hub, or two Redis hubs standing for two processes."""
    if request.param == "memory":
        hub = MemoryHub()
        yield hub, hub
        await hub.close()
        return
    redis_url = request.getfixturevalue("redis_url")
    publisher, subscriber = RedisHub(redis_url), RedisHub(redis_url)
    yield publisher, subscriber
    await publisher.close()
    await subscriber.close()


async def test_hub_delivers_to_subscribers_of_the_same_organization_only(hubs: tuple[Hub, Hub]) -> None:
    publisher, subscriber = hubs
    org_a, org_b = unique_org_id(), unique_org_id()
    async with subscriber.subscribe(org_a) as a_events, subscriber.subscribe(org_a) as a_again, \
            subscriber.subscribe(org_b) as b_events:
        await publisher.publish(envelope(org_a, "for A"))
        await publisher.publish(envelope(org_b, "for B"))
        assert (await next_of(a_events)) == envelope(org_a, "for A")
        assert (await next_of(a_again)) == envelope(org_a, "for A")  # every subscriber gets its own copy
        assert (await next_of(b_events))["data"]["note"] == "for B"  # A's, published first, never came


async def test_events_are_published_after_commit_and_never_after_rollback(runtime: Runtime,
                                                                          hubs: tuple[Hub, Hub]) -> None:
    publisher, subscriber = hubs
    emitting = dataclasses.replace(runtime, hub=publisher)
    org = unique_org_id()
    async with subscriber.subscribe(org) as events:
        with pytest.raises(RuntimeError):
            async with unit_of_work(emitting) as uow:
                uow.emit(Pinged(organization_id=org, note="rolled back"))
                raise RuntimeError("the change fails")
        async with unit_of_work(emitting) as uow:
            uow.emit(Pinged(organization_id=org, note="committed"))
            await publisher.publish(envelope(org, "published inside the transaction"))
        # the marker was published after the rolled-back event and before the commit: it must come first
        assert (await next_of(events))["data"]["note"] == "published inside the transaction"
        assert (await next_of(events))["data"]["note"] == "committed"


async def test_redis_hub_shares_one_subscription_and_drops_it(redis_url: str) -> None:
    hub, raw = RedisHub(redis_url), Redis.from_url(redis_url)
    org = unique_org_id()

    async def subscribers() -> int:
        return int(dict(await raw.pubsub_numsub(channel_for(org)))[channel_for(org).encode()])

    try:
        async with hub.subscribe(org), hub.subscribe(org):
            assert await subscribers() == 1  # one connection per process, however many dashboards
        await eventually(subscribers, 0)  # the last one left: unsubscribed
        async with hub.subscribe(org):  # and subscribing again works
            assert await subscribers() == 1
    finally:
        await hub.close()
        await raw.aclose()


async def test_redis_hub_close_ends_subscribers_and_releases_connections(redis_url: str) -> None:
    raw = Redis.from_url(redis_url)

    async def hub_connections() -> int:
        return sum(1 for client in await raw.client_list() if client.get("name") == "softdukan-hub")

    before = await hub_connections()
    hub = RedisHub(redis_url)
    org = unique_org_id()
    try:
        await hub.publish(envelope(org, "opens a pool connection too"))
        async with hub.subscribe(org) as events:
            waiting = asyncio.create_task(anext(events, None))
            await hub.close()
            async with asyncio.timeout(DEADLINE):
                assert await waiting is None  # the iterator ended cleanly, no exception
        await eventually(hub_connections, before)
        with pytest.raises(RuntimeError):
            async with hub.subscribe(org):
                pass
    finally:
        await hub.close()
        await raw.aclose()


async def test_redis_hub_recovers_when_its_connection_drops(redis_url: str) -> None:
    hub, raw = RedisHub(redis_url), Redis.from_url(redis_url)
    org = unique_org_id()
    try:
        async with hub.subscribe(org) as events:
            listening = [c["id"] for c in await raw.client_list()
                         if c.get("name") == "softdukan-hub" and int(c.get("sub", 0))]
            assert len(listening) == 1
            await raw.client_kill_filter(_id=listening[0])
            receiving = asyncio.create_task(next_of(events))
            # what is published while the hub reconnects is lost (pub/sub keeps nothing): publish until one lands
            async with asyncio.timeout(DEADLINE):
                while not receiving.done():
                    await hub.publish(envelope(org, "after the drop"))
                    await asyncio.wait({receiving}, timeout=0.05)
            assert receiving.result()["data"]["note"] == "after the drop"
    finally:
        await hub.close()
        await raw.aclose()


async def write_something(runtime: Runtime, org: OrgFixture) -> None:
    """A write transaction; on SQLite it waits for (and fails after the busy timeout on) any other one."""
    async with unit_of_work(runtime) as uow:
        await role_service.create(uow, org.subject, name=f"role {uuid.uuid4().hex[:8]}", description=None,
                                  permissions=["teams:read"])


# -- who sees what ------------------------------------------------------------------------------


def test_visibility_rules() -> None:
    me = Subject(kind="user", organization_id=7, permissions=frozenset({"members:read"}), label="me@example.com",
                 user_id=70, membership_id=700)
    assert views.visible_to(me, envelope(7, "everyone"))
    assert views.visible_to(me, envelope(7, "with permission", permission="members:read"))
    assert not views.visible_to(me, envelope(7, "without permission", permission="audit:read"))
    assert views.visible_to(me, envelope(7, "for me and another", user_ids=[70, 71]))
    assert not views.visible_to(me, envelope(7, "for someone else", user_ids=[71]))
    assert not views.visible_to(me, envelope(8, "another organization"))


# -- the stream, in process: headers, filtering, heartbeat, no transaction held, disconnect ------------------


class AsgiStream:
    """Drives one streaming request through the ASGI app by hand (httpx's in-process transport buffers)."""

    def __init__(self, app: Any, path: str, cookies: httpx.Cookies) -> None:
        cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
        self.scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
                      "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
                      "query_string": b"", "headers": [(b"host", b"testserver"), (b"cookie", cookie.encode())],
                      "client": ("127.0.0.1", 50000), "server": ("testserver", 80)}
        self.app = app
        self.start: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.chunks: asyncio.Queue[bytes] = asyncio.Queue()
        self.gone = asyncio.Event()
        self._request_sent = False
        self.task: asyncio.Task[None] | None = None

    async def receive(self) -> dict[str, Any]:
        if not self._request_sent:
            self._request_sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.start.set_result(message)
        elif message.get("body"):
            await self.chunks.put(message["body"])

    async def open(self) -> dict[str, Any]:
        self.task = asyncio.create_task(self.app(self.scope, self.receive, self.send))
        async with asyncio.timeout(DEADLINE):
            return await self.start

    async def next_data(self) -> dict[str, Any]:
        """The next `data:` message, skipping heartbeats."""
        async with asyncio.timeout(DEADLINE):
            while not (chunk := await self.chunks.get()).startswith(b"data: "):
                pass
        return orjson.loads(chunk.removeprefix(b"data: ").strip())  # type: ignore[no-any-return]

    async def next_ping(self) -> None:
        async with asyncio.timeout(DEADLINE):
            while await self.chunks.get() != views.PING:
                pass

    async def disconnect(self) -> None:
        self.gone.set()
        assert self.task is not None
        async with asyncio.timeout(DEADLINE):
            await self.task


async def test_stream_filters_beats_holds_no_transaction_and_ends_on_disconnect(
        runtime: Runtime, app: Any, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    a = await make_org(runtime, "Stream Stores")
    await browser_sign_in(client, a.owner.email)
    monkeypatch.setattr(views, "HEARTBEAT_SECONDS", 0.01)  # so a heartbeat shows up without waiting 15 s
    stream = AsgiStream(app, "/events", client.cookies)

    start = await stream.open()
    headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    assert start["status"] == 200
    assert headers["content-type"].startswith("text/event-stream")
    assert headers["cache-control"] == "no-cache" and headers["x-accel-buffering"] == "no"
    assert await asyncio.wait_for(stream.chunks.get(), DEADLINE) == views.CONNECTED  # subscribed from here on

    # the sign-in check's unit of work committed before streaming: no pooled connection is out, and writers
    # are not blocked (SQLite takes its write lock at BEGIN, so an open transaction would lock them out)
    pool = runtime.engine.pool
    assert isinstance(pool, QueuePool) and pool.checkedout() == 0
    await write_something(runtime, a)

    hub = runtime.hub
    assert a.owner.id is not None
    await hub.publish(envelope(a.org.id, "members may see", permission="members:read"))
    await hub.publish(envelope(a.org.id, "needs a permission nobody has", permission="nobody:has"))
    await hub.publish(envelope(a.org.id, "someone else's", user_ids=[a.owner.id + 1000]))
    await hub.publish(envelope(a.org.id, "mine", user_ids=[a.owner.id], summary="A note for you"))
    first, second = await stream.next_data(), await stream.next_data()
    assert first == {"type": "test.pinged", "data": {"organization_id": a.org.id, "note": "members may see"}}
    assert second == {"type": "test.pinged", "data": {"organization_id": a.org.id, "note": "mine"},
                      "summary": "A note for you"}
    await stream.next_ping()  # while nothing happens, heartbeats keep the connection alive

    await stream.disconnect()  # the request finished: the generator ran its cleanup and left the hub


async def test_events_need_a_signed_in_member(client: httpx.AsyncClient, runtime: Runtime) -> None:
    response = await client.get("/events")
    assert response.status_code == 303 and response.headers["location"].startswith("/sign-in")


# -- end to end over a real server (in-memory hub, and Redis hub) ----------------------------------------------


@pytest.fixture
def redis_live_server(settings: Settings, redis_url: str):  # type: ignore[no-untyped-def]
    """The product in its scale-out shape: Redis hub, Redis limiter, Dramatiq relay."""
    from tests.support.services import LiveServer

    live_settings = settings.model_copy(update={"redis_url": redis_url})
    server = LiveServer(lambda: create_app(live_settings))
    server.settings = live_settings  # type: ignore[attr-defined]
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["memory", "redis"])
def sse_server(request: pytest.FixtureRequest, runtime: Runtime) -> Any:
    """A live server with either hub (`runtime` first: the tables are wiped before it starts)."""
    return request.getfixturevalue("live_server" if request.param == "memory" else "redis_live_server")


async def add_member(runtime: Runtime, org: OrgFixture, role: str) -> Subject:
    """A new person joins `org` with `role` the way people do: invited, then accepting the e-mailed link."""
    email = f"{role.replace(' ', '-')}-{uuid.uuid4().hex[:8]}@example.com"
    async with unit_of_work(runtime) as uow:
        roles = {r.name: r.id for r in await role_service.list(uow, org.subject)}
        await organization_service.invite(uow, org.subject, email=email, role_id=roles[role])
    async with runtime.sessionmaker() as session:
        mail = (await session.execute(select(OutboundEmail).where(OutboundEmail.to_address == email))).scalar_one()
    token = re.search(r"token=([\w-]+)", mail.body_text)
    assert token
    async with unit_of_work(runtime) as uow:
        user, _ = await organization_service.accept_as_new_user(uow, token=token.group(1), name=role.title(),
                                                                mobile=None, password=PASSWORD, ip=None)
        subject = await organization_service.subject_for(uow, user, org.org.id)
    assert subject is not None and subject.membership_id is not None
    return subject


class Watcher:
    """A signed-in browser's /events stream, read in the background into a queue of messages."""

    END: dict[str, Any] = {"type": "stream ended"}

    def __init__(self, response: httpx.Response) -> None:
        self.messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.connected = asyncio.Event()
        self._reader = asyncio.create_task(self._read(response))

    async def _read(self, response: httpx.Response) -> None:
        try:
            async for line in response.aiter_lines():
                if line == ": connected":
                    self.connected.set()
                elif line.startswith("data: "):
                    await self.messages.put(orjson.loads(line.removeprefix("data: ")))
        except httpx.HTTPError:  # the test closed the stream
            pass
        await self.messages.put(self.END)

    async def next(self) -> dict[str, Any]:
        async with asyncio.timeout(DEADLINE):
            return await self.messages.get()

    async def stop(self) -> None:
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)


@asynccontextmanager
async def watching(server: Any, email: str) -> AsyncIterator[Watcher]:
    # no read timeout: a quiet stream only sends a heartbeat every 15 s
    async with httpx.AsyncClient(base_url=server.url, timeout=httpx.Timeout(DEADLINE, read=None)) as browser:
        await browser_sign_in(browser, email)
        async with browser.stream("GET", "/events", headers={"accept": "text/event-stream"}) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            watcher = Watcher(response)
            try:
                async with asyncio.timeout(DEADLINE):
                    await watcher.connected.wait()  # subscribed: events committed from now on are delivered
                yield watcher
            finally:
                await watcher.stop()


def role_changed(org: OrgFixture, member: Subject, role: str) -> dict[str, Any]:
    return {"type": "member.role_changed",
            "data": {"organization_id": org.org.id, "membership_id": member.membership_id, "role": role}}


async def test_live_events_reach_exactly_the_members_who_may_see_them(runtime: Runtime, sse_server: Any) -> None:
    a, b = await make_org(runtime, "Alpha Traders"), await make_org(runtime, "Beta Bazaar")
    async with unit_of_work(runtime) as uow:
        await role_service.create(uow, a.subject, name="bookkeeper", description=None,
                                  permissions=["organization:read"])  # no members:read
    a_agent, a_bookkeeper = await add_member(runtime, a, "agent"), await add_member(runtime, a, "bookkeeper")
    b_agent = await add_member(runtime, b, "agent")

    async with httpx.AsyncClient(base_url=sse_server.url, timeout=DEADLINE) as api:
        roles = {org.org.id: {r["name"]: r["id"] for r in (await api.get("/v1/roles", headers=org.auth)).json()}
                 for org in (a, b)}

        async def change_role(org: OrgFixture, member: Subject, role: str) -> None:
            response = await api.put(f"/v1/members/{member.membership_id}/role",
                                     json={"role_id": roles[org.org.id][role]}, headers=org.auth)
            assert response.status_code == 200, response.text

        async with watching(sse_server, a.owner.email) as a_owner, \
                watching(sse_server, a_bookkeeper.label) as bookkeeper, \
                watching(sse_server, b.owner.email) as b_owner:
            # three open streams hold no database transaction: a write from elsewhere goes through
            await write_something(runtime, a)

            await change_role(a, a_agent, "manager")
            assert await a_owner.next() == role_changed(a, a_agent, "manager")

            await change_role(b, b_agent, "manager")
            assert await b_owner.next() == role_changed(b, b_agent, "manager")  # A's came first and never arrived

            await change_role(a, a_bookkeeper, "agent")
            assert await a_owner.next() == role_changed(a, a_bookkeeper, "agent")
            # the bookkeeper's own role changed: their stream ends, before which nothing was delivered to them
            assert await bookkeeper.next() == Watcher.END

            async with watching(sse_server, a_bookkeeper.label) as agent_now:  # reconnecting re-checks the role
                await change_role(a, a_agent, "agent")
                assert await agent_now.next() == role_changed(a, a_agent, "agent")


async def test_events_from_another_process_reach_the_dashboard_over_redis(
        runtime: Runtime, redis_url: str, redis_live_server: Any) -> None:
    """A worker (here: this test process) commits a change; the web process streams it to the browser."""
    a = await make_org(runtime, "Worker Wholesale")
    worker_hub = RedisHub(redis_url)
    worker = dataclasses.replace(runtime, hub=worker_hub)
    raw = Redis.from_url(redis_url)

    async def subscribers() -> int:
        return int(dict(await raw.pubsub_numsub(channel_for(a.org.id)))[channel_for(a.org.id).encode()])

    try:
        async with watching(redis_live_server, a.owner.email) as owner:
            assert await subscribers() == 1
            async with unit_of_work(worker) as uow:
                uow.emit(MemberJoined(organization_id=a.org.id, membership_id=4242, name="Imran"))
            assert await owner.next() == {"type": "member.joined", "data": {
                "organization_id": a.org.id, "membership_id": 4242, "name": "Imran"}}
        await eventually(subscribers, 0)  # the browser left: the server unsubscribed
    finally:
        await worker_hub.close()
        await raw.aclose()
