"""The task registry: `@task("name")` registers an async function `(uow, **args)`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from softdukan.platform.uow import UnitOfWork

TaskFn = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class TaskDef:
    name: str
    fn: TaskFn
    max_attempts: int


@dataclass(frozen=True)
class PeriodicDef:
    name: str  # the task it enqueues
    every: timedelta


TASKS: dict[str, TaskDef] = {}
PERIODIC: dict[str, PeriodicDef] = {}


def task(name: str, *, max_attempts: int = 5) -> Callable[[TaskFn], TaskFn]:
    def register(fn: TaskFn) -> TaskFn:
        if name in TASKS and TASKS[name].fn is not fn:
            raise RuntimeError(f"task {name!r} registered twice")
        TASKS[name] = TaskDef(name, fn, max_attempts)
        return fn

    return register


def periodic(name: str, *, every: timedelta, max_attempts: int = 1) -> Callable[[TaskFn], TaskFn]:
    """A task the scheduler enqueues once per `every` slot (deduplicated by a unique key)."""

    def register(fn: TaskFn) -> TaskFn:
        task(name, max_attempts=max_attempts)(fn)
        PERIODIC[name] = PeriodicDef(name, every)
        return fn

    return register


def get_task(name: str) -> TaskDef:
    try:
        return TASKS[name]
    except KeyError:
        raise LookupError(f"no task named {name!r}") from None


async def call(uow: UnitOfWork, name: str, args: dict[str, Any]) -> Any:
    return await get_task(name).fn(uow, **args)
