"""The sandbox: a faithful local Meta (Graph API, signed webhooks, virtual customers) under /sandbox/graph.

`mount(app)` adds it to an app: the control API, Meta's paths and the handler that renders Meta's error body.
Python callers use `softdukan.sandbox.service`.
"""

from __future__ import annotations

from fastapi import FastAPI

PREFIX = "/sandbox/graph"


def mount(app: FastAPI) -> None:
    from softdukan.sandbox.graph.errors import GraphFault, graph_fault_handler
    from softdukan.sandbox.graph.routes import control, graph

    app.add_exception_handler(GraphFault, graph_fault_handler)
    app.include_router(control.router, prefix=PREFIX)
    app.include_router(graph.router, prefix=PREFIX)
