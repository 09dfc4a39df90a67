"""The demo's first customer chats: virtual customers of the sandbox write to the demo number.

Their messages go the real way: the sandbox queues signed `messages` webhooks, which the job runner delivers
to `/webhooks/whatsapp` as soon as `softdukan serve` is up, and routing turns them into conversations. One of
them comes from a Click-to-WhatsApp ad, so the demo shows a referral and an open free-entry-point offer.
"""

from __future__ import annotations

from typing import Any

from softdukan.platform.uow import UnitOfWork

AD_REFERRAL: dict[str, Any] = {
    "source_url": "https://fb.me/demo-chai-ad", "source_id": "120210000000000001", "source_type": "ad",
    "headline": "Masala chai, fresh every morning", "body": "Order on WhatsApp, delivered in 30 minutes",
    "media_type": "image", "image_url": "https://example.com/demo/chai.jpg", "ctwa_clid": "ARAkLkDemoClid"}

CHATS: list[tuple[str, str, dict[str, Any], dict[str, Any] | None]] = [
    ("919876500001", "Meera Iyer", {"type": "text", "text": {"body": "Hi! Do you deliver to Indiranagar?"}}, None),
    ("919876500002", "Rahul Verma",
     {"type": "text", "text": {"body": "Saw your ad. What's the price of 1 kg masala chai?"}}, AD_REFERRAL),
    ("919876500003", "Fatima Khan", {"type": "location", "location": {
        "latitude": 12.9716, "longitude": 77.5946, "name": "MG Road Metro", "address": "MG Road, Bengaluru"}}, None),
]


async def seed_demo_chats(uow: UnitOfWork, phone_number_id: str) -> int:
    """Queue the demo customers' first messages, once per number. Returns how many were queued."""
    from softdukan.sandbox.service import customers  # sandbox shape only

    if await customers.list_customers(uow, phone_number_id):
        return 0
    for wa_id, name, message, referral in CHATS:
        await customers.upsert_customer(uow, wa_id, name=name)
        await customers.customer_sends(uow, wa_id, phone_number_id=phone_number_id, message=message,
                                       referral=referral)
    return len(CHATS)
