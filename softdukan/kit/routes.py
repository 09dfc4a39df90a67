"""Every route of an app with its full path, whatever the nesting of included routers.

FastAPI ≥0.160 keeps included routers nested (app.routes holds router entries, not flat routes);
`iter_route_contexts` resolves them to the effective path. One place knows this.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts


@dataclass(frozen=True)
class RouteInfo:
    path: str
    methods: frozenset[str]
    route: APIRoute  # the original route: its dependant lists path, query and body parameters


def api_routes(app: FastAPI) -> list[RouteInfo]:
    found = []
    for context in iter_route_contexts(app.routes):
        original = context.original_route
        if isinstance(original, APIRoute) and context.path:
            found.append(RouteInfo(context.path, frozenset(context.methods or ()), original))
    return found
