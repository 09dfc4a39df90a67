"""The broadcasts' lean sender answers exactly as GraphClient.send, against the sandbox over real HTTP: the same
accepted message, the same GraphError for a refusal, and a refused connection known as never sent."""

from __future__ import annotations

import pytest

from softdukan.conversation.tasks import never_sent
from softdukan.whatsapp.client import GraphClient, GraphTransportError
from softdukan.whatsapp.client.lean import LeanSender
from softdukan.whatsapp.errors import GraphError
from softdukan.whatsapp.messages import TemplateMessage, TextMessage
from tests.conversation.live import Live, live, open_window  # noqa: F401  (fixture)
from tests.support.services import free_port


async def test_the_same_answers_as_graph_client(live: Live) -> None:  # noqa: F811
    from softdukan.number.models import WhatsAppAccount

    await open_window(live)
    async with live.runtime.sessionmaker() as session:
        account = await session.get(WhatsAppAccount, live.number.account_id)
    assert account is not None
    settings = live.runtime.settings
    token = live.runtime.secrets.open(account.access_token_sealed)
    lean = LeanSender(base_url=settings.graph_url, version=settings.graph_api_version, access_token=token)
    try:
        async with GraphClient(base_url=settings.graph_url, version=settings.graph_api_version,
                               access_token=token) as graph:
            pnid, to = live.number.phone_number_id, "919812300001"
            ours = await lean.send(pnid, TextMessage("Hello from a lean sender"), to, biz_opaque_callback_data="x:1")
            theirs = await graph.send(pnid, TextMessage("Hello from GraphClient"), to, biz_opaque_callback_data="x:2")
            assert ours.wamid.startswith("wamid.") and ours.wamid != theirs.wamid
            assert (ours.wa_id, ours.input) == (theirs.wa_id, theirs.input)
            missing = TemplateMessage(name="no_such_template", language_code="en")
            errors: list[GraphError] = []
            for client in (lean, graph):
                with pytest.raises(GraphError) as refused:
                    await client.send(pnid, missing, to)
                errors.append(refused.value)
            assert [(e.code, e.http_status, type(e)) for e in errors] == [(132001, 404, type(errors[1]))] * 2
            assert errors[0].body.message == errors[1].body.message and never_sent(errors[0])
    finally:
        await lean.aclose()


async def test_a_refused_connection_is_a_transport_error_that_was_never_sent() -> None:
    lean = LeanSender(base_url=f"http://127.0.0.1:{free_port()}/sandbox/graph", version="v24.0", access_token="t")
    try:
        with pytest.raises(GraphTransportError) as failed:
            await lean.send("123", TextMessage("hi"), "919812300001")
    finally:
        await lean.aclose()
    assert never_sent(failed.value)
