"""Settings from the environment (prefix-free names such as DATABASE_URL) and an optional `.env` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL (postgresql://user:pass@host:port/db); unset: embedded server.",
    )
    embedded_pg_data: Path = Field(
        default=PROJECT_ROOT / "var" / "pgdata",
        description="Data folder of the embedded PostgreSQL used when DATABASE_URL is unset.",
    )
    host: str = Field(default="127.0.0.1", description="Interface uvicorn binds to.")
    port: int = Field(default=8000, description="Port uvicorn listens on.")
    log_level: Literal["debug", "info", "warning", "error"] = Field(default="info")
    log_format: Literal["json", "console"] = Field(default="json", description="json for machines.")
    db_pool_size: int = Field(default=20, ge=1, description="Connections kept open per worker.")
    db_max_overflow: int = Field(
        default=0, ge=0, description="Extra connections opened under load and closed after each use."
    )
    db_pool_timeout_s: float = Field(default=5.0, gt=0, description="Wait for a pooled connection.")
    db_connect_timeout_s: float = Field(default=5.0, gt=0, description="TCP/auth timeout per connect.")
    db_statement_timeout_ms: int = Field(default=15_000, ge=0, description="Server-side cap per statement.")
    graceful_shutdown_s: int = Field(
        default=20, ge=1, description="How long in-flight requests may finish on SIGTERM."
    )
    max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024, description="Larger bodies get 413.")
    timezone: str = Field(default="Europe/Amsterdam", description="Zone that defines 'today' for as_of.")
    due_soon_days: int = Field(default=14, ge=0, description="Horizon of the due_soon status.")
    idempotency_ttl_hours: int = Field(
        default=24, ge=1, description="How long a response stored under an Idempotency-Key is replayed."
    )
    batch_max_items: int = Field(default=10_000, ge=1, description="Items per activity batch; more is 413.")
    auth_cache_seconds: float = Field(
        default=5, ge=0, description="How long an authenticated key is trusted without a lookup (0: off)."
    )
    rate_limit: str = Field(
        default="1200/minute", description="Per API key, `limits` notation (e.g. 20/second); empty: off."
    )
    rate_limit_storage_uri: str = Field(
        default="async+memory://", description="Where counts live; async+redis://… to share across replicas."
    )
    retention_years_after_close: int = Field(
        default=2, ge=0, description="Years after a case closes before `poortwachter purge` erases it."
    )
    allow_small_employer_track_1_closure: bool = Field(
        default=False,
        description="P4: the planned rule letting small employers close Track 1 in year two (not law yet).",
    )
    demo_keys_file: Path = Field(
        default=PROJECT_ROOT / "var" / "demo-keys.json",
        description="Where `serve --demo` keeps the demo keys it printed, so a restart reuses them.",
    )
    event_worker_enabled: bool = Field(
        default=True,
        description="Run the outbox dispatcher, webhook delivery and deadline scheduler in this process.",
    )
    event_worker_poll_s: float = Field(
        default=1.0, gt=0, description="How often the worker looks for new events and due deliveries."
    )
    deadline_scan_interval_s: float = Field(
        default=300, gt=0, description="How often the scheduler looks for deadlines turning due_soon/overdue."
    )
    webhook_retry_schedule_s: list[float] = Field(
        default=[5, 30, 120, 600, 1800, 3600, 10800, 21600, 43200],
        description="Seconds before each retry (JSON list); after the last, the delivery fails (about 22h).",
    )
    webhook_retry_jitter: float = Field(
        default=0.2, ge=0, le=1, description="Each retry delay varies by up to this fraction either way."
    )
    webhook_timeout_s: float = Field(default=10, gt=0, description="Time limit of one delivery attempt.")
    webhook_batch_size: int = Field(default=20, ge=1, description="Deliveries one worker sends at once.")
    webhooks_allow_private_destinations: bool = Field(
        default=False,
        description="Development: allow webhook URLs on private/loopback addresses, and http to loopback.",
    )
    event_retention_days: int = Field(
        default=30, ge=1, description="`poortwachter housekeeping` deletes older events and their deliveries."
    )

    @property
    def async_database_url(self) -> str:
        """The URL for SQLAlchemy's asyncpg dialect."""
        if self.database_url is None:
            raise RuntimeError("database_url is resolved at start-up (embedded server or DATABASE_URL)")
        return to_asyncpg_url(self.database_url)


def to_asyncpg_url(url: str) -> str:
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError("DATABASE_URL must be a postgresql:// URL")


@lru_cache
def get_settings() -> Settings:
    return Settings()
