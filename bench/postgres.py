"""A throwaway PostgreSQL cluster for a benchmark run (the same settings as the test suite's cluster)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator

from tests.support.services import free_port


def pg_bin() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    return found[-1] if found and os.access(f"{found[-1]}/initdb", os.X_OK) else None


@contextlib.contextmanager
def cluster() -> Iterator[str]:
    """Yields an asyncpg database URL; stops and removes the cluster afterwards."""
    binary = pg_bin()
    if binary is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    workdir = tempfile.mkdtemp(prefix="softdukan-bench-pg-")
    os.chmod(workdir, 0o755)
    as_pg: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(workdir, "postgres")
        as_pg = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    data = f"{workdir}/data"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run([*as_pg, f"{binary}/initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8"],
                   check=True, **quiet)
    # Durable settings (fsync on): the benchmark should see what a production server pays per commit.
    subprocess.run([*as_pg, f"{binary}/pg_ctl", "-D", data, "-l", f"{workdir}/log", "-w", "-o",
                    f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c max_connections=100", "start"],
                   check=True, **quiet)
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_pg, f"{binary}/pg_ctl", "-D", data, "-m", "immediate", "stop"], **quiet)
        shutil.rmtree(workdir, ignore_errors=True)
