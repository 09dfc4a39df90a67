"""The `softdukan` command: serve | worker | scheduler | migrate | demo | create-staff | sandbox | ledger | refunds."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import typer

from softdukan.config import get_settings

app = typer.Typer(help="SoftDukan: WhatsApp marketing platform.", no_args_is_help=True, add_completion=False)


@app.command()
def migrate() -> None:
    """Apply database migrations (Alembic) to DATABASE_URL."""
    from softdukan.auth.builtin_roles import sync_builtin_roles
    from softdukan.kit.db import make_nullpool_engine
    from softdukan.kit.migrate import upgrade

    url = get_settings().database_url
    upgrade(url)

    async def sync() -> None:
        from softdukan.subscription.service import backfill

        engine = make_nullpool_engine(url)
        try:
            await sync_builtin_roles(engine)
        finally:
            await engine.dispose()
        await backfill(get_settings())  # organizations older than plans get the sign-up trial

    asyncio.run(sync())  # built-in roles follow the code (auth/builtin_roles.py)
    typer.echo("database migrated")


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Serve web, API and (embedded shape) the job runner, scheduler and live-event hub."""
    import uvicorn

    # open live-event streams never end by themselves: give them 5 s, then cancel them so shutdown completes
    uvicorn.run("softdukan.main:create_app", factory=True, host=host, port=port, workers=workers,
                proxy_headers=True, log_level=get_settings().log_level.lower(), timeout_graceful_shutdown=5)


@app.command()
def demo(json_output: bool = typer.Option(False, "--json", help="print the credentials as JSON")) -> None:
    """Create the demo organization once (idempotent) and print its credentials."""
    from softdukan.demo import ensure_demo

    credentials = asyncio.run(ensure_demo(get_settings()))
    if json_output:
        typer.echo(json.dumps(credentials, indent=2))
        return
    typer.echo("\n  SoftDukan demo organization\n  ---------------------------")
    for key, value in credentials.items():
        typer.echo(f"  {key:16} {value}")
    typer.echo("")


@app.command("create-staff")
def create_staff(email: str = typer.Option(..., prompt=True), name: str = typer.Option("Staff", prompt=False),
                 password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True)) -> None:
    """Create a platform staff account for the backoffice (/backoffice)."""
    from softdukan.backoffice.service import create_staff_user

    try:
        asyncio.run(create_staff_user(get_settings(), email=email, name=name, password=password))
    except Exception as exc:  # a domain error: say it plainly, exit non-zero
        message = getattr(exc, "message", str(exc))
        typer.echo(f"error: {message}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"staff user {email} created; sign in at /backoffice/sign-in")


@app.command()
def worker(processes: int = 1, threads: int = 4) -> None:
    """Scale-out shape: run Dramatiq workers for jobs relayed through Redis (needs REDIS_URL)."""
    if not get_settings().redis_url:
        typer.echo("error: `softdukan worker` needs REDIS_URL (the embedded shape runs jobs inside `serve`)", err=True)
        raise typer.Exit(2)
    from softdukan.platform.jobs.worker import run_worker

    raise typer.Exit(run_worker(processes=processes, threads=threads))


@app.command()
def sandbox(host: str = "127.0.0.1", port: int = 8100) -> None:
    """Run the sandbox alone (a local Meta: Graph API, webhooks, virtual customers) against DATABASE_URL."""
    import uvicorn

    from softdukan.kit.migrate import upgrade
    from softdukan.sandbox.app import create_sandbox_app

    upgrade(get_settings().database_url)
    typer.echo(f"sandbox Graph API at http://{host}:{port}/sandbox/graph (set GRAPH_API_URL to it)")
    uvicorn.run(create_sandbox_app(), host=host, port=port, log_level=get_settings().log_level.lower())


@app.command()
def scheduler() -> None:
    """Scale-out shape: run the periodic-task scheduler alone (one per deployment is enough; more are safe)."""
    from softdukan.platform.jobs.scheduler import run_standalone

    asyncio.run(run_standalone(get_settings()))


ledger_app = typer.Typer(help="The credits ledger.", no_args_is_help=True)
app.add_typer(ledger_app, name="ledger")


@ledger_app.command("check")
def ledger_check() -> None:
    """Verify the ledger's invariants (balanced transactions, cached balances, holds); exit 1 on any finding."""
    from softdukan.kit.clock import Clock
    from softdukan.kit.db import make_nullpool_engine, make_sessionmaker
    from softdukan.ledger.check import findings

    async def run() -> list[str]:
        engine = make_nullpool_engine(get_settings().database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                return await findings(session, Clock().now())
        finally:
            await engine.dispose()

    problems = asyncio.run(run())
    for problem in problems:
        typer.echo(problem, err=True)
    typer.echo(f"ledger: {len(problems)} finding(s)" if problems else "ledger: every invariant holds")
    raise typer.Exit(1 if problems else 0)


refunds_app = typer.Typer(help="Refund requests.", no_args_is_help=True)
app.add_typer(refunds_app, name="refunds")


@refunds_app.command("ingest")
def refunds_ingest(files: list[Path]) -> None:
    """Record refund requests e-mailed to support, from .eml files (exit 1 if any was not recorded)."""
    from softdukan.refund.email_intake import ingest_files

    lines = asyncio.run(ingest_files(get_settings(), files))
    for line in lines:
        typer.echo(line)
    raise typer.Exit(1 if any(": not recorded:" in line for line in lines) else 0)


if __name__ == "__main__":
    app()
