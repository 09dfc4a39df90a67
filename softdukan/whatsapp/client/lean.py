"""A lean sender for many messages from one number (broadcasts): the same request, answers and errors as
`GraphClient.send`, with a fraction of the per-request CPU.

At 1,000 messages a second the HTTP client is most of a broadcast's CPU: httpx (and httpcore under it) spend
more per request than the rest of the per-message work together, and aiohttp still ~160 µs. The requests go out
through `wire.WirePool` (persistent connections, one buffer per request, httptools parsing the answer); the body
is encoded by orjson and a 2xx answer decoded by it. Any other answer goes through the same `_decode` as every
Graph answer, so a refusal maps to the same GraphError. Transport failures are GraphTransportError with the wire's
exception as `__cause__`: `is_never_sent` tells the ones that prove the request never left (wire.NeverSent).
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from softdukan.whatsapp.client.http import GraphTransportError, _decode, path_id, ssl_context
from softdukan.whatsapp.client.types import SentMessage
from softdukan.whatsapp.client.wire import NeverSent, WireError, WirePool, WireTimeout
from softdukan.whatsapp.messages import Message

TIMEOUT, CONNECT_TIMEOUT = 30.0, 5.0


def is_never_sent(cause: Any) -> bool:
    """The connection could not be opened (refused, DNS, TLS): the request certainly did not reach Meta."""
    return isinstance(cause, NeverSent)


class LeanSender:
    def __init__(self, *, base_url: str, version: str, access_token: str, connections: int = 16) -> None:
        self._root = f"{base_url.rstrip('/')}/{version}/"
        self._path = f"/{version}/"
        self._headers = {"Authorization": f"Bearer {access_token}", "Content-Type": "application/json"}
        self._base_url, self._connections = base_url.rstrip("/"), connections
        self._pool: WirePool | None = None

    def _wire(self) -> WirePool:
        if self._pool is None:  # made on first use, inside the running loop
            self._pool = WirePool(self._base_url, limit=self._connections, ssl_context=ssl_context(),
                                  connect_timeout=CONNECT_TIMEOUT, timeout=TIMEOUT, headers=self._headers)
        return self._pool

    async def send(self, phone_number_id: str, message: Message, to: str, *, context_message_id: str | None = None,
                   biz_opaque_callback_data: str | None = None) -> SentMessage:
        payload = message.to_payload(to, context_message_id=context_message_id,
                                     biz_opaque_callback_data=biz_opaque_callback_data)
        path = f"{self._path}{path_id(phone_number_id, 'phone_number_id')}/messages"
        try:
            status, headers, content = await self._wire().post(path, orjson.dumps(payload))
        except NeverSent as exc:
            raise GraphTransportError(f"POST {self._root}…/messages failed: {exc}"[:300]) from exc
        except WireError as exc:
            raise GraphTransportError(f"POST {self._root}…/messages failed: {exc}"[:300],
                                      timeout=isinstance(exc, WireTimeout)) from exc
        if 200 <= status < 300:
            try:  # the common answer, decoded without building a Response
                return SentMessage.parse(orjson.loads(content))
            except orjson.JSONDecodeError:
                pass  # `_decode` below says what was wrong, exactly as for any Graph answer
        response = httpx.Response(status, headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers],
                                  content=content)
        return SentMessage.parse(_decode(response))

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.close()

    def __repr__(self) -> str:  # never the token
        return f"LeanSender({self._root!r})"
