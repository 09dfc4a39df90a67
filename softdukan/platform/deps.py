"""FastAPI dependencies shared by every edge: the runtime, the unit of work, the API subject."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request

from softdukan.auth.api_keys import api_key_service
from softdukan.auth.subject import Subject
from softdukan.kit.db import READ_FIRST
from softdukan.platform.errors import Unauthorized
from softdukan.platform.runtime import Runtime
from softdukan.platform.uow import UnitOfWork


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


async def _uow(request: Request) -> AsyncIterator[UnitOfWork]:
    """The request's transaction: committed before the response is sent, rolled back on any error."""
    runtime = get_runtime(request)
    async with runtime.sessionmaker() as session:
        if request.method in ("GET", "HEAD"):  # SQLite: read without waiting for writers (kit/db.py)
            await session.connection(execution_options={READ_FIRST: True})
        uow = UnitOfWork(runtime, session)
        try:
            yield uow
        except BaseException:
            await uow.rollback()
            raise
        await uow.commit()


UoW = Annotated[UnitOfWork, Depends(_uow, scope="function")]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


async def api_subject(request: Request, uow: UoW) -> Subject:
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("missing_api_key", "Send your API key as 'Authorization: Bearer <key>'.")
    return await api_key_service.authenticate(uow, secret.strip(), ip=client_ip(request))


class Requires:
    """`subject: Requires["members:read"]` — the API route's permission, checked before the handler runs."""

    def __class_getitem__(cls, permission: str) -> Any:
        async def dependency(subject: Annotated[Subject, Depends(api_subject)]) -> Subject:
            subject.require(permission)
            return subject

        dependency.required_permission = permission  # type: ignore[attr-defined]
        return Annotated[Subject, Depends(dependency)]
