"""`/sandbox/razorpay/v1/checkout.js`: the sandbox's stand-in for https://checkout.razorpay.com/v1/checkout.js.

The same interface a shop's page uses with the real gateway: `new Razorpay(options)`, `.on("payment.failed", fn)`,
`.open()`, `.close()`; `options.handler` receives `razorpay_payment_id`, `razorpay_order_id` and
`razorpay_signature`, `options.modal.ondismiss` runs when the customer closes it. The checkout shown is the
sandbox's hosted page (checkout.py) in an overlay frame, which answers the shop's page with `postMessage`
(`callback_method=postmessage`, `callback_url` = the shop's origin). So the product has one checkout path, and the
browser journeys run it against the sandbox."""

from __future__ import annotations

from pathlib import Path

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

router = APIRouter(include_in_schema=False)

SCRIPT = (Path(__file__).parent / "static" / "checkout.js").read_text()


@router.get("/v1/checkout.js")
async def checkout_js(request: Request) -> Response:
    base = str(request.url_for("checkout_js")).removesuffix("/v1/checkout.js")
    return Response(SCRIPT.replace("__BASE__", orjson.dumps(base).decode()), media_type="application/javascript",
                    headers={"Cache-Control": "public, max-age=300"})
