"""Settings: the only place that reads the environment."""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", env_file=None, extra="ignore")

    database_url: str = Field(default=f"sqlite+aiosqlite:///{ROOT / 'var' / 'softdukan.db'}")
    redis_url: str | None = None
    softdukan_secret_key: str = "dev-insecure-secret-change-me-0123456789abcdef"
    base_url: str = "http://127.0.0.1:8000"
    # Meta's Graph API. Unset: the built-in sandbox at {base_url}/sandbox/graph.
    graph_api_url: str | None = None
    graph_api_version: str = "v24.0"
    sandbox: bool = True  # mount the sandbox (Meta, Razorpay, customers) and the phone simulator
    # The platform's Meta app (embedded signup code exchange; signs webhooks of numbers connected through it).
    # Unset in the sandbox shape: derived from the secret key, and registered with the sandbox on first use.
    meta_app_id: str | None = None
    meta_app_secret: str | None = None

    # e-mail: SMTP when configured, else the dashboard mailbox (embedded shape)
    smtp_url: str | None = None  # smtp://user:pass@host:port  (smtps:// for implicit TLS)
    mail_from: str = "SoftDukan <no-reply@softdukan.local>"
    # The development mailbox page (no sign-in; lists every e-mail, reset links included). Default: on only
    # in the sandbox shape without SMTP, so a production server that forgot SMTP never exposes it.
    mailbox_enabled: bool | None = None

    # runtime
    run_jobs_in_process: bool = True  # embedded runner; `serve` with REDIS_URL relays instead
    job_poll_interval: float = 0.5
    job_lease_seconds: int = 60
    # broadcasts: an attempt whose answer was lost is resent only if no status webhook came within this time
    broadcast_confirm_seconds: float = 300.0
    scheduler_in_process: bool = True
    session_days: int = 14
    cookie_secure: bool = False
    signin_attempts: int = 5  # failed sign-ins per window before 429
    signin_window_seconds: int = 900
    # After startup, move everything alive (modules, mappers, routes) out of the garbage collector's sight, so full
    # collections stay short: without it they were the worst acknowledgement latencies (bench/REPORT.md).
    gc_freeze: bool = True
    log_level: str = "INFO"
    log_format: str = "console"  # console | json

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def graph_url(self) -> str:
        return (self.graph_api_url or f"{self.base_url.rstrip('/')}/sandbox/graph").rstrip("/")

    @property
    def platform_app(self) -> tuple[str, str]:
        """(app id, app secret) of the platform's Meta app."""
        if self.meta_app_id and self.meta_app_secret:
            return self.meta_app_id, self.meta_app_secret
        digest = hmac.new(self.softdukan_secret_key.encode(), b"sandbox-meta-app", hashlib.sha256).hexdigest()
        return "1" + str(int(digest[:12], 16)).zfill(15), digest[:32]

    @property
    def mailbox_on(self) -> bool:
        if self.mailbox_enabled is None:
            return self.smtp_url is None and self.sandbox
        return self.mailbox_enabled


@lru_cache
def get_settings() -> Settings:
    return Settings()
