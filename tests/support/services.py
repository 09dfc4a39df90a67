"""Real services for tests: a redis-server per test session and a live uvicorn server per test.

Missing binaries fail the test (never skip): CI installs them in .ci/run, `make test` checks them.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import uvicorn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listening on port {port} after {timeout}s")


@contextlib.contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (apt-get install redis-server); `make test` needs it")
    for _attempt in range(5):  # a port chosen here can be taken before redis binds it: then choose again
        port = free_port()
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with contextlib.suppress(RuntimeError):
            wait_for_port(port)
        time.sleep(0.1)
        if process.poll() is None:
            break
    else:
        raise RuntimeError("redis-server did not start after 5 ports")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


class LiveServer:
    """Runs an ASGI app with uvicorn on a free port in a background thread with its own event loop.

    The listening socket is bound here and handed to uvicorn, so no other process can take the port
    between choosing it and serving on it (a race that failed CI once with "live server did not start").
    """

    def __init__(self, app_factory: Any) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port = int(self._socket.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._factory = app_factory
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        config = uvicorn.Config(self._factory, factory=True, host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="on")
        self._server = uvicorn.Server(config)
        server, sockets, failures = self._server, [self._socket], []

        def serve() -> None:
            try:
                asyncio.run(server.serve(sockets=sockets))
            except BaseException as error:  # uvicorn exits with SystemExit on a failed startup
                failures.append(error)

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"live server did not start on port {self.port}: {failures or 'timed out'}")
            time.sleep(0.02)

    def stop(self) -> None:
        if self._server:
            self._server.should_exit = True
        if self._thread:
            self._thread.join(timeout=15)
        self._socket.close()
