"""Jinja2 rendering for the dashboard: one environment over every domain's templates/ folder."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, FileSystemLoader

from softdukan.dashboard import csrf

PACKAGE = Path(__file__).resolve().parent.parent
_dirs = [PACKAGE / "dashboard" / "templates",
         *sorted(p for p in PACKAGE.glob("*/templates") if p.parent.name != "dashboard")]

templates = Jinja2Templates(directory=str(_dirs[0]))
templates.env.loader = ChoiceLoader([FileSystemLoader(str(d)) for d in _dirs])


def local_time(value: datetime | None, tz: str = "Asia/Kolkata", fmt: str = "%d %b %Y, %H:%M") -> str:
    if value is None:
        return "—"
    return value.astimezone(ZoneInfo(tz)).strftime(fmt)


templates.env.filters["local_time"] = local_time
templates.env.globals["current_csrf_token"] = lambda: csrf.current_token.get()


def render(request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200,
           headers: dict[str, str] | None = None) -> HTMLResponse:
    ctx: dict[str, Any] = {"request": request, "web": getattr(request.state, "web", None),
                           "csrf_token": getattr(request.state, "csrf_token", "")}
    ctx.update(context or {})
    return templates.TemplateResponse(request, name, ctx, status_code=status_code, headers=headers)


def render_error(request: Request, status: int, message: str, *, headers: dict[str, str] | None = None
                 ) -> HTMLResponse:
    if request.headers.get("hx-request"):  # HTMX swaps the message into the page's alert area
        return HTMLResponse(f'<div class="alert alert-danger" role="alert">{_escape(message)}</div>',
                            status_code=status, headers={**(headers or {}), "HX-Retarget": "#flash",
                                                         "HX-Reswap": "innerHTML"})
    return render(request, "error.html", {"status": status, "message": message}, status_code=status,
                  headers=headers)


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))
