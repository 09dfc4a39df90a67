"""The GET verification handshake (reference §5.1): the verify token finds its account by keyed hash."""

from __future__ import annotations

from softdukan.number.service import find_account_by_verify_token
from softdukan.platform.errors import BadRequest, Forbidden
from softdukan.platform.uow import UnitOfWork

MAX_TOKEN = 200
MAX_CHALLENGE = 200


async def verify_subscription(uow: UnitOfWork, *, mode: str | None, token: str | None, challenge: str | None) -> str:
    """The challenge to echo back when the token belongs to a connected account; else Forbidden (403)."""
    if mode is not None and mode != "subscribe":
        raise Forbidden("invalid_verify_token", "Only hub.mode=subscribe is supported.")
    if not token or len(token) > MAX_TOKEN:
        raise Forbidden("invalid_verify_token", "The verify token does not match a connected account.")
    account = await find_account_by_verify_token(uow, token)
    if account is None:
        raise Forbidden("invalid_verify_token", "The verify token does not match a connected account.")
    if challenge is None or not challenge or len(challenge) > MAX_CHALLENGE:
        raise BadRequest("invalid_challenge", "hub.challenge is missing or too long.")
    return challenge
