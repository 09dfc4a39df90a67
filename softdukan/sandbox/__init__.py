"""The sandbox: a faithful local Meta (Graph API, signed webhooks, virtual customers) under /sandbox/graph, and
a local Razorpay (orders, payments, refunds, checkout page, signed webhooks) under /sandbox/razorpay.

`mount(app)` adds both to an app: the control APIs, the providers' paths and the handlers that render their
error bodies. Python callers use `softdukan.sandbox.service`.
"""

from __future__ import annotations

from fastapi import FastAPI

PREFIX = "/sandbox/graph"
RAZORPAY_PREFIX = "/sandbox/razorpay"


def mount(app: FastAPI) -> None:
    from softdukan.sandbox.graph.errors import GraphFault, graph_fault_handler
    from softdukan.sandbox.graph.routes import control, graph

    app.add_exception_handler(GraphFault, graph_fault_handler)
    app.include_router(control.router, prefix=PREFIX)
    app.include_router(graph.router, prefix=PREFIX)
    _mount_razorpay(app)


def _mount_razorpay(app: FastAPI) -> None:
    import softdukan.sandbox.razorpay.tasks  # noqa: F401  registers the webhook deliveries wherever it is mounted
    from softdukan.sandbox.razorpay import checkout, checkout_js
    from softdukan.sandbox.razorpay.errors import RazorpayFault, razorpay_fault_handler
    from softdukan.sandbox.razorpay.routes import api, control

    app.add_exception_handler(RazorpayFault, razorpay_fault_handler)
    app.include_router(control.router, prefix=RAZORPAY_PREFIX)
    app.include_router(api.router, prefix=RAZORPAY_PREFIX)
    app.include_router(checkout.router, prefix=RAZORPAY_PREFIX)
    app.include_router(checkout_js.router, prefix=RAZORPAY_PREFIX)
