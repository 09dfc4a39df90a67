"""Reading an uploaded contact file and parsing its rows run in one helper process, not in a thread of the server.

A thread would still share the server's GIL: while it parses (phonenumbers, dates, csv: ~100 µs a row), every
request the event loop serves waits for the GIL at each of its database round trips, and the dashboard slows down
several times over (bench/contact_import.py measures it). A process has its own GIL. Should the helper process be
unavailable (it died, or the interpreter is shutting down), the work runs in a thread as before: slower for the
dashboard, never lost.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

import structlog

log = structlog.get_logger(__name__)

T = TypeVar("T")

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def _start_helper(parent: int) -> None:
    """In the helper process: leave Ctrl-C to the server, and exit when the server is gone. The pool only stops
    its workers when the server exits normally; uvicorn ends on the signal it caught, and a SIGKILL leaves no
    chance at all: the helper would wait forever (it holds its own queue's write end, so it never sees EOF)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="softdukan-import-helper-watch", daemon=True).start()
    import softdukan.contact.importing.chunk  # noqa: F401  phonenumbers' metadata, once per helper process


def _executor() -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            # spawn: a fresh interpreter, never a fork of a process that runs threads and an event loop
            _pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_start_helper, initargs=(os.getpid(),))
        return _pool


def _discard(broken: ProcessPoolExecutor) -> None:
    global _pool
    with _pool_lock:
        if _pool is broken:
            _pool = None
    broken.shutdown(wait=False, cancel_futures=True)


async def run(function: Callable[..., T], *args: object) -> T:
    """`function(*args)` in the helper process (arguments and result must pickle)."""
    pool = _executor()
    try:
        future = asyncio.get_running_loop().run_in_executor(pool, function, *args)
    except RuntimeError as exc:  # the pool was shut down (interpreter exit) or could not start its process
        return await _in_a_thread(pool, exc, function, *args)
    try:
        return await future
    except BrokenProcessPool as exc:  # the helper process died
        return await _in_a_thread(pool, exc, function, *args)


async def _in_a_thread(pool: ProcessPoolExecutor, error: Exception, function: Callable[..., T], *args: object) -> T:
    log.warning("contact_import_helper_unavailable", error=repr(error))
    _discard(pool)
    return await asyncio.to_thread(function, *args)
