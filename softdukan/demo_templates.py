"""The demo's message templates: a marketing offer with an image header, a utility order update with named
variables and an authentication one-time password, made once through the product's own path.

`softdukan demo` runs before `serve` is up, so the Graph calls are served in-process by an app built on the same
runtime (the way `bind_local_app` serves a request's calls); the sample image really goes through the Resumable
Upload API and each template really is submitted. The sandbox reviews them after its delay (a job), and its approval
webhooks arrive as soon as `serve` runs: the templates page shows them APPROVED within seconds of `make run`.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

from softdukan.auth.models import User
from softdukan.platform.uow import UnitOfWork

OFFER = "diwali_chai_offer"
TEA_TASTING = "tea_tasting_invite"  # sent by the demo broadcast (softdukan/demo_broadcasts.py)


def chai_png(width: int = 96, height: int = 64) -> bytes:
    """A small, valid PNG (a warm chai-coloured gradient): the offer's header sample."""
    raw = b"".join(b"\x00" + bytes(channel for x in range(width)
                                   for channel in (200 - y, 120 + x // 2, 40 + y // 2)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def definitions(image_handle: str) -> list[dict[str, Any]]:
    return [
        {"name": OFFER, "language": "en", "category": "MARKETING", "parameter_format": "POSITIONAL",
         "components": [
             {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": [image_handle]}},
             {"type": "BODY", "text": "Hi {{1}}, our Diwali special is here: {{2}} off every box of masala chai "
                                      "this week. Order right here on WhatsApp!",
              "example": {"body_text": [["Asha", "20%"]]}},
             {"type": "FOOTER", "text": "Reply STOP to opt out"},
             {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Shop now", "url": "https://chai.example/shop"},
                                             {"type": "QUICK_REPLY", "text": "Stop promotions"}]}]},
        {"name": "order_update", "language": "en", "category": "UTILITY", "parameter_format": "NAMED",
         "components": [
             {"type": "BODY", "text": "Hi {{customer_name}}, your order {{order_id}} is {{order_status}}. "
                                      "Thank you for shopping with Chai Point!",
              "example": {"body_text_named_params": [
                  {"param_name": "customer_name", "example": "Asha"},
                  {"param_name": "order_id", "example": "#1042"},
                  {"param_name": "order_status", "example": "out for delivery"}]}},
             {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Talk to us"}]}]},
        {"name": "login_code", "language": "en", "category": "AUTHENTICATION", "parameter_format": "POSITIONAL",
         "components": [
             {"type": "BODY", "add_security_recommendation": True},
             {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy code"}]}]},
        tea_tasting_invite(),
    ]


def tea_tasting_invite() -> dict[str, Any]:
    return {"name": TEA_TASTING, "language": "en", "category": "MARKETING", "parameter_format": "POSITIONAL",
            "components": [
                {"type": "BODY", "text": "Hi {{1}}, join us this Saturday at Chai Point Indiranagar for a free "
                                         "tasting of our new Darjeeling first flush. Reply YES to save a seat!",
                 "example": {"body_text": [["Asha"]]}},
                {"type": "FOOTER", "text": "Reply STOP to opt out"},
                {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Yes, count me in"},
                                                {"type": "QUICK_REPLY", "text": "Stop promotions"}]}]}


async def seed_demo_templates(uow: UnitOfWork, owner: User, organization_id: int) -> int:
    """Submit the demo templates once per organization. Returns how many were submitted."""
    from softdukan.main import create_app
    from softdukan.number.graph import _local_app
    from softdukan.organization.service import organization_service
    from softdukan.template.service import template_service

    subject = await organization_service.subject_for(uow, owner, organization_id)
    assert subject is not None
    if await template_service.list(uow, subject, limit=1):
        return 0
    # Graph calls served in-process (the server is not up yet); no lifespan: jobs wait for `serve`
    binding = _local_app.set(create_app(uow.settings, runtime=uow.runtime, background=False))
    try:
        sample = await template_service.upload_header_sample(uow, subject, chai_png(), file_type="image/png",
                                                             file_name="diwali-chai.png", header_format="IMAGE")
        for definition in definitions(sample.handle):
            await template_service.create(uow, subject, definition)
    finally:
        _local_app.reset(binding)
    return len(definitions(sample.handle))
