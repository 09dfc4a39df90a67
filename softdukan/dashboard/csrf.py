"""CSRF protection for every dashboard form: a signed double-submit token.

The browser holds a random `sd_csrf` cookie (HttpOnly, SameSite=Lax); every form carries
HMAC(secret, cookie) as `csrf_token` (HTMX sends it as the X-CSRF-Token header). A forged
cross-site form cannot read the cookie, so it cannot produce the token.
"""

from __future__ import annotations

import hashlib
import hmac
from contextvars import ContextVar

from fastapi import Request, Response

from softdukan.kit.crypto import constant_equals, new_token
from softdukan.platform.errors import Forbidden

COOKIE = "sd_csrf"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# Set per request by the cookie middleware; read by the csrf() form macro, which Jinja imports without context.
current_token: ContextVar[str] = ContextVar("csrf_token", default="")


def token_for(secret_key: str, cookie_value: str) -> str:
    return hmac.new(secret_key.encode(), b"csrf:" + cookie_value.encode(), hashlib.sha256).hexdigest()


def ensure_cookie(request: Request) -> tuple[str, bool]:
    """The request's CSRF cookie value, and whether it must be set on the response."""
    value = request.cookies.get(COOKIE)
    if value and 20 <= len(value) <= 100:
        return value, False
    return new_token(), True


def set_cookie(response: Response, value: str, *, secure: bool) -> None:
    response.set_cookie(COOKIE, value, httponly=True, samesite="lax", secure=secure, path="/")


async def verify(request: Request, secret_key: str) -> None:
    if request.method in SAFE_METHODS:
        return
    cookie = request.cookies.get(COOKIE)
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get("csrf_token")
            sent = value if isinstance(value, str) else None
    if not cookie or not sent or not constant_equals(sent, token_for(secret_key, cookie)):
        raise Forbidden("csrf_failed", "This form has expired or did not come from SoftDukan. Reload the page "
                                       "and try again.")
