"""A small world of contacts for segment tests: typed attributes, tags, consent, and inbound messages that
reach routing through the real webhook (so windows, unread counts and ad referrals are the product's own)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from tests.support.whatsapp import envelope, inbound, messages_change, post_webhook
from tests.support.whatsapp_fixtures import T0

REFERRAL = {"source_url": "https://fb.me/ad", "source_id": "ADID", "source_type": "ad", "headline": "Sale",
            "body": "50% off", "media_type": "image", "ctwa_clid": "CLID"}
# name → phone; each has a distinct profile in the world below
ASHA, BILAL, CHITRA, DEV, ESHA = "919800000001", "919800000002", "919800000003", "919800000004", "919800000005"


async def post(client: httpx.AsyncClient, auth: dict[str, str], path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body, headers=auth)
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]


async def customer_writes(client: httpx.AsyncClient, drain_jobs: Any, wa: Any, sender: str, wamid: str,
                          at: datetime, **extra: Any) -> None:
    payload = envelope(wa.waba_id, [messages_change(wa, messages=[
        inbound(wamid, at, "text", {"body": "hi"}, sender=sender, **extra)])])
    assert (await post_webhook(client, payload)).status_code == 200
    await drain_jobs()


async def build_world(client: httpx.AsyncClient, drain_jobs: Any, wa: Any) -> dict[str, int]:
    """Five contacts (clock frozen at T0):
    - Asha: tags VIP+Pune, city Pune, orders 12, birthday 1990-03-05, vip yes, plan Gold, opted in (api, dashboard
      source: created by API), wrote 1 h ago through an ad (window open, unread).
    - Bilal: tag VIP, city "New Pune Road", orders 3, plan Silver, opted out, wrote 40 days ago (window closed).
    - Chitra: tag Pune, orders 0, vip no, blocked, never wrote, renewal date 3 days ago.
    - Dev: no tags, no attributes, first seen inbound (source inbound), wrote 2 days ago (window closed, unread).
    - Esha: imported-looking contact: created by API with opt-in, no messages.
    """
    auth = wa.org.auth
    for body in ({"key": "city", "label": "City", "type": "text"},
                 {"key": "orders", "label": "Orders", "type": "number"},
                 {"key": "birthday", "label": "Birthday", "type": "date"},
                 {"key": "renewal", "label": "Renewal", "type": "date"},
                 {"key": "vip", "label": "VIP", "type": "boolean"},
                 {"key": "plan", "label": "Plan", "type": "choice", "options": ["Gold", "Silver", "Bronze"]}):
        await post(client, auth, "/v1/contact-attributes", body)
    ids: dict[str, int] = {}
    ids["asha"] = (await post(client, auth, "/v1/contacts", {
        "phone": f"+{ASHA}", "name": "Asha", "tags": ["VIP", "Pune"], "opt_in_source": "website",
        "attributes": {"city": "Pune", "orders": 12, "birthday": "1990-03-05", "vip": True, "plan": "Gold"}}))["id"]
    ids["bilal"] = (await post(client, auth, "/v1/contacts", {
        "phone": f"+{BILAL}", "name": "Bilal", "tags": ["vip"],
        "attributes": {"city": "New Pune Road", "orders": 3, "plan": "Silver"}}))["id"]
    renewal = (T0 - timedelta(days=3)).date().isoformat()
    ids["chitra"] = (await post(client, auth, "/v1/contacts", {
        "phone": f"+{CHITRA}", "name": "Chitra", "tags": ["Pune"],
        "attributes": {"orders": 0, "vip": False, "renewal": renewal}}))["id"]
    ids["esha"] = (await post(client, auth, "/v1/contacts", {"phone": f"+{ESHA}", "name": "Esha",
                                                             "opt_in_source": "import"}))["id"]
    await post(client, auth, f"/v1/contacts/{ids['bilal']}/opt-out", {})
    await post(client, auth, f"/v1/contacts/{ids['chitra']}/block", {})
    await customer_writes(client, drain_jobs, wa, ASHA, "wamid.asha", T0 - timedelta(hours=1), referral=REFERRAL)
    await customer_writes(client, drain_jobs, wa, BILAL, "wamid.bilal", T0 - timedelta(days=40))
    await customer_writes(client, drain_jobs, wa, DEV, "wamid.dev", T0 - timedelta(days=2))
    listed = (await client.get("/v1/contacts", params={"q": DEV[-6:]}, headers=auth)).json()["data"]
    ids["dev"] = listed[0]["id"]
    return ids
