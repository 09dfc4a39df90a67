"""Settings: the only place that reads the environment."""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
RAZORPAY_API = "https://api.razorpay.com"


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
    # Razorpay (wallet recharges, subscriptions). Unset URL: the built-in sandbox at {base_url}/sandbox/razorpay.
    # Unset keys: derived from the secret key (sandbox shape), and the sandbox accepts them as its default merchant.
    razorpay_api_url: str | None = None
    razorpay_key_id: str | None = None
    razorpay_key_secret: str | None = None
    razorpay_webhook_secret: str | None = None  # differs from the key secret, as on Razorpay
    # Razorpay Checkout's script. Unset: Razorpay's own when the API is Razorpay's, else the sandbox's stand-in.
    razorpay_checkout_js_url: str | None = None

    # GST billing: the supplier on every invoice and credit note (billing/). The demo GSTIN is fictitious but valid.
    supplier_legal_name: str = "SoftDukan Technologies Private Limited"
    supplier_gstin: str = "29AAHCS7719K1ZO"
    supplier_address: str = "2nd Floor, 42 Residency Road, Bengaluru, Karnataka 560025"
    supplier_state: str = "29"  # GST state code; must be the GSTIN's first two digits
    supplier_sac: str = "997331"  # default SAC of invoice lines

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
    # WhatsApp credits every new organization starts with (promotional, untaxed), in units of ₹0.0001: ₹50
    signup_credit_units: int = 500_000
    # Plans (issue 6): the free trial's length, its reminder, and the grace period of an unpaid renewal.
    trial_days: int = Field(default=14, ge=1, le=90)
    trial_reminder_days: int = Field(default=3, ge=0, le=30)
    renewal_grace_days: int = Field(default=14, ge=0, le=60)
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

    @model_validator(mode="after")
    def _supplier_gstin_valid(self) -> Settings:
        from softdukan.billing.gstin import parse_gstin  # a GSTIN typo must stop startup, not the first invoice
        from softdukan.platform.errors import Invalid

        try:
            gstin = parse_gstin(self.supplier_gstin, field="SUPPLIER_GSTIN")
        except Invalid as exc:
            raise ValueError(f"SUPPLIER_GSTIN: {exc.message}") from None
        if gstin.state_code != self.supplier_state:
            raise ValueError(f"SUPPLIER_STATE {self.supplier_state} differs from SUPPLIER_GSTIN's state "
                             f"{gstin.state_code}")
        return self

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
    def razorpay_url(self) -> str:
        return (self.razorpay_api_url or f"{self.base_url.rstrip('/')}/sandbox/razorpay").rstrip("/")

    @property
    def razorpay_checkout_js(self) -> str:
        """The checkout.js the dashboard's pay page loads (Razorpay Standard Checkout)."""
        if self.razorpay_checkout_js_url:
            return self.razorpay_checkout_js_url
        if self.razorpay_url == RAZORPAY_API:
            return "https://checkout.razorpay.com/v1/checkout.js"
        return f"{self.razorpay_url}/v1/checkout.js"

    @property
    def razorpay_keys(self) -> tuple[str, str]:
        """(key id, key secret) for Razorpay's Basic auth and checkout signatures."""
        if self.razorpay_key_id and self.razorpay_key_secret:
            return self.razorpay_key_id, self.razorpay_key_secret
        digest = hmac.new(self.softdukan_secret_key.encode(), b"sandbox-razorpay-keys", hashlib.sha256).hexdigest()
        return "rzp_test_" + digest[:14], digest[14:38]

    @property
    def razorpay_signing_secret(self) -> str:
        """The webhook secret that signs `X-Razorpay-Signature`."""
        if self.razorpay_webhook_secret:
            return self.razorpay_webhook_secret
        digest = hmac.new(self.softdukan_secret_key.encode(), b"sandbox-razorpay-webhook", hashlib.sha256)
        return digest.hexdigest()[:32]

    @property
    def mailbox_on(self) -> bool:
        if self.mailbox_enabled is None:
            return self.smtp_url is None and self.sandbox
        return self.mailbox_enabled


@lru_cache
def get_settings() -> Settings:
    return Settings()
