"""`Idempotency-Key` on POSTs of /v1: a client retry gets the first response, never a second effect.

The first request with a key inserts a row (unique on API key + idempotency key) before it runs; its
response is stored when it finishes. A retry with the same body replays the stored response; a
retry while the first is still running gets 409; the same key with another body gets 422. A 5xx or
an authentication failure frees the key so the client can try again. Rows expire after 24 hours.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import String, Text, UniqueConstraint, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from softdukan.kit.crypto import token_hash
from softdukan.kit.db import Model
from softdukan.platform.jobs.registry import periodic
from softdukan.platform.uow import UnitOfWork

HEADER = b"idempotency-key"
TTL = timedelta(hours=24)


class IdempotencyRecord(Model):
    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("credential_hash", "key"),)

    credential_hash: Mapped[str] = mapped_column(String(64))  # the API key's hash: keys are per client
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None]  # None while the first request runs
    response_body: Mapped[str | None] = mapped_column(Text)
    content_type: Mapped[str | None] = mapped_column(String(100))
    expires_at: Mapped[datetime]


def _error(status: int, code: str, message: str) -> tuple[int, bytes]:
    return status, orjson.dumps({"error": {"code": code, "message": message, "details": None}})


class IdempotencyMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        key = headers.get(HEADER)
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        if key is None or not authorization.lower().startswith("bearer "):
            await self.app(scope, receive, send)
            return
        runtime = scope["app"].state.runtime
        key_text = key.decode("latin-1").strip()
        if not 1 <= len(key_text) <= 255:
            await self._send(send, *_error(400, "invalid_idempotency_key", "Idempotency-Key must be 1–255 characters."))
            return

        body = await _read_body(receive)
        credential = token_hash(runtime.settings.softdukan_secret_key, authorization[7:].strip())
        request_hash = hashlib.sha256(scope["path"].encode() + b"\n" + body).hexdigest()
        now = runtime.clock.now()
        record_id = await self._reserve(runtime, credential, key_text, request_hash, now)
        if not isinstance(record_id, int):
            await self._send(send, *record_id[:2], content_type=record_id[2], replayed=record_id[3])
            return

        captured: dict[str, Any] = {"status": 500, "body": b"", "content_type": "application/json"}

        async def replay_body() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                for name, value in message.get("headers", []):
                    if name.lower() == b"content-type":
                        captured["content_type"] = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, replay_body, capture)
        finally:
            await self._finish(runtime, record_id, captured)

    async def _reserve(self, runtime: Any, credential: str, key: str, request_hash: str,
                       now: datetime) -> int | tuple[int, bytes, str, bool]:
        async with runtime.sessionmaker() as session:
            await session.execute(delete(IdempotencyRecord).where(
                IdempotencyRecord.credential_hash == credential, IdempotencyRecord.key == key,
                IdempotencyRecord.expires_at <= now))
            record = IdempotencyRecord(credential_hash=credential, key=key, request_hash=request_hash,
                                       expires_at=now + TTL, created_at=now)
            session.add(record)
            try:
                await session.commit()
                return record.id
            except IntegrityError:
                await session.rollback()
            existing = (await session.execute(select(IdempotencyRecord).where(
                IdempotencyRecord.credential_hash == credential, IdempotencyRecord.key == key))).scalar_one()
        if existing.request_hash != request_hash:
            return (*_error(422, "idempotency_key_reused",
                            "This Idempotency-Key was used with a different request."), "application/json", False)
        if existing.status_code is None:
            return (*_error(409, "idempotency_in_progress",
                            "A request with this Idempotency-Key is still running. Retry shortly."),
                    "application/json", False)
        return (existing.status_code, (existing.response_body or "").encode(),
                existing.content_type or "application/json", True)

    async def _finish(self, runtime: Any, record_id: int, captured: dict[str, Any]) -> None:
        async with runtime.sessionmaker() as session:
            if captured["status"] >= 500 or captured["status"] in (401, 403):
                await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id))
            else:
                await session.execute(update(IdempotencyRecord).where(IdempotencyRecord.id == record_id).values(
                    status_code=captured["status"], response_body=captured["body"].decode("utf-8", "replace"),
                    content_type=captured["content_type"]))
            await session.commit()

    @staticmethod
    async def _send(send: Any, status: int, body: bytes, *, content_type: str = "application/json",
                    replayed: bool = False) -> None:
        headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
        if replayed:
            headers.append((b"idempotent-replayed", b"true"))
        if status == 409:
            headers.append((b"retry-after", b"1"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _read_body(receive: Any) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


@periodic("platform.purge_idempotency_records", every=timedelta(hours=1))
async def purge_idempotency_records(uow: UnitOfWork) -> None:
    await uow.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= uow.clock.now()))
