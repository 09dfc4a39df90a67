"""Runs every benchmark and writes bench/REPORT.md. From the repository root: `python -m bench.run`."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from bench import broadcast, contact_import, credits, jobs_runner, snapshot, webhook_ingest

REPORT = Path(__file__).resolve().parent / "REPORT.md"


def machine() -> str:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return "\n".join([
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {platform.platform()}, {platform.machine()}, {cpus} CPUs available (nproc)",
        f"- python: {platform.python_implementation()} {platform.python_version()}, SQLite {sqlite3.sqlite_version}",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=2000, help="jobs per round (job runner benchmark)")
    parser.add_argument("--rounds", type=int, default=5, help="measured rounds per side; the median is reported")
    parser.add_argument("--webhooks", type=int, default=3000, help="requests per round (webhook ingestion)")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL side of webhook ingestion")
    parser.add_argument("--recipients", type=int, default=100_000, help="broadcast recipients at 1,000 msg/s")
    parser.add_argument("--recipients-80", type=int, default=100_000, help="broadcast recipients at 80 msg/s")
    parser.add_argument("--broadcast-saved", type=Path, help="broadcast runs saved by `bench.broadcast --save`: "
                                                             "their ceilings are not measured again")
    parser.add_argument("--contacts", type=int, default=1_000_000, help="contacts of the audience snapshot")
    parser.add_argument("--import-rows", type=int, default=100_000, help="rows of the contact import file")
    parser.add_argument("--credit-seconds", type=float, default=credits.SECONDS,
                        help="seconds per round of the raw and single-message credit paths")
    parser.add_argument("--credit-chunk-messages", type=int, default=credits.CHUNK_MESSAGES,
                        help="messages per round of the per-chunk credit path")
    parser.add_argument("--only", choices=["jobs", "webhooks", "broadcast", "snapshot", "contact_import", "credits"],
                        help="run one benchmark")
    parser.add_argument("--output", type=Path, default=REPORT, help="where to write the report")
    args = parser.parse_args(argv)

    sections = []
    if args.only in (None, "jobs"):
        sections.append(jobs_runner.run(jobs=args.jobs, rounds=args.rounds).markdown())
    if args.only in (None, "webhooks"):
        sections.append(webhook_ingest.run(requests=args.webhooks, rounds=args.rounds,
                                           postgres=not args.no_postgres).markdown())
    if args.only in (None, "broadcast"):
        saved = args.broadcast_saved
        skip = {run["ceiling"] for run in json.loads(saved.read_text())["runs"]} if saved else set()
        ceiling = next((c for c in (1000, 80) if c not in skip), None) if len(skip) == 1 else None
        sections.append(broadcast.run(recipients=args.recipients, recipients_80=args.recipients_80,
                                      postgres=not args.no_postgres, ceiling=ceiling, saved=saved).markdown())
    if args.only in (None, "snapshot"):
        sections.append(snapshot.run(contacts=args.contacts, postgres=not args.no_postgres).markdown())
    if args.only in (None, "contact_import"):
        sections.append(contact_import.run(rows=args.import_rows, postgres=not args.no_postgres).markdown())
    if args.only in (None, "credits"):
        sections.append(credits.run(seconds=args.credit_seconds, chunk_messages=args.credit_chunk_messages,
                                    postgres=not args.no_postgres).markdown())
    report = "\n".join([
        "# SoftDukan benchmarks",
        "",
        "Ratios measured in one run against a raw baseline on the same machine (see bench/README.md). "
        "Absolute numbers vary by machine; compare ratios.",
        "",
        machine(),
        "",
        *sections,
    ])
    args.output.write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
