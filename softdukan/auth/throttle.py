"""Failed sign-in throttling, shared by tenant and staff sign-in: per e-mail, and looser per IP."""

from __future__ import annotations

from dataclasses import dataclass

from softdukan.platform.errors import TooManyRequests
from softdukan.platform.uow import UnitOfWork


@dataclass(frozen=True)
class SignInThrottle:
    uow: UnitOfWork
    namespace: str  # "signin" or "staff-signin": each has its own buckets
    email_key: str
    ip: str | None
    message: str = "Too many failed sign-ins. Wait a little and try again."

    def _buckets(self) -> tuple[tuple[str, int, int], ...]:
        settings = self.uow.settings
        return ((f"{self.namespace}:email:{self.email_key}", settings.signin_attempts, settings.signin_window_seconds),
                (f"{self.namespace}:ip:{self.ip}", settings.signin_attempts * 4, settings.signin_window_seconds))

    async def check(self) -> None:
        """Refuse before the password is even checked, so a locked-out guess reveals nothing."""
        for key, limit, period in self._buckets():
            decision = await self.uow.runtime.limiter.peek(key, limit=limit, period=period)
            if not decision.allowed:
                raise TooManyRequests("too_many_sign_in_attempts", self.message, retry_after=decision.retry_after)

    async def failed(self) -> None:
        for key, limit, period in self._buckets():
            await self.uow.runtime.limiter.hit(key, limit=limit, period=period)

    async def succeeded(self) -> None:
        await self.uow.runtime.limiter.reset(self._buckets()[0][0])  # the IP bucket keeps counting
