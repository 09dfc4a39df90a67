"""A lean sender for many messages from one number (broadcasts): the same request, answers and errors as
`GraphClient.send`, with a fraction of the per-request CPU.

At 1,000 messages a second the HTTP client is most of a broadcast's CPU: httpx (and httpcore under it) spend
more per request than the rest of the per-message work together (bench/REPORT.md). aiohttp's client, with its C
HTTP parser and one keep-alive connection pool per lane, does the same request for much less. The URL and headers
are built once and the body encoded by orjson; the answer is decoded by the same `_decode` as every Graph answer,
so a refusal maps to the same GraphError, and transport errors are GraphTransportError with aiohttp's exception as
`__cause__` (`is_never_sent` tells which prove the request never left).
"""

from __future__ import annotations

from typing import Any

import aiohttp
import httpx
import orjson

from softdukan.whatsapp.client.http import GraphTransportError, _decode, path_id, ssl_context
from softdukan.whatsapp.client.types import SentMessage
from softdukan.whatsapp.messages import Message

_TIMEOUT = aiohttp.ClientTimeout(total=30.0, sock_connect=5.0)


def is_never_sent(cause: Any) -> bool:
    """The connection could not be opened (refused, DNS, TLS): the request certainly did not reach Meta."""
    return isinstance(cause, aiohttp.ClientConnectorError)


class LeanSender:
    def __init__(self, *, base_url: str, version: str, access_token: str, connections: int = 16) -> None:
        self._root = f"{base_url.rstrip('/')}/{version}/"
        self._headers = {"Authorization": f"Bearer {access_token}", "Content-Type": "application/json"}
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:  # made on first use, inside the running loop
            connector = aiohttp.TCPConnector(limit=self._connections, ssl=ssl_context())
            self._session = aiohttp.ClientSession(connector=connector, timeout=_TIMEOUT, headers=self._headers,
                                                  cookie_jar=aiohttp.DummyCookieJar(),  # Graph sets none
                                                  json_serialize=lambda v: orjson.dumps(v).decode())
        return self._session

    async def send(self, phone_number_id: str, message: Message, to: str, *, context_message_id: str | None = None,
                   biz_opaque_callback_data: str | None = None) -> SentMessage:
        payload = message.to_payload(to, context_message_id=context_message_id,
                                     biz_opaque_callback_data=biz_opaque_callback_data)
        url = f"{self._root}{path_id(phone_number_id, 'phone_number_id')}/messages"
        try:
            async with self._client().post(url, data=orjson.dumps(payload)) as answer:
                status, content = answer.status, await answer.read()
                if 200 <= status < 300:
                    try:  # the common answer, decoded without building a Response
                        return SentMessage.parse(orjson.loads(content))
                    except orjson.JSONDecodeError:
                        pass  # `_decode` below says what was wrong, exactly as for any Graph answer
                headers = dict(answer.headers)
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise GraphTransportError(f"POST {url} timed out: {type(exc).__name__}", timeout=True) from exc
        except aiohttp.ClientError as exc:
            raise GraphTransportError(f"POST {url} failed: {type(exc).__name__}: {exc}"[:300]) from exc
        response = httpx.Response(status, headers=headers, content=content)
        return SentMessage.parse(_decode(response))

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()

    def __repr__(self) -> str:  # never the token
        return f"LeanSender({self._root!r})"
