"""Settings shared by every Hearth service, read from `HEARTH_*` environment variables."""

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

VAR_DIR = Path("var")


def _secret_from_var_dir() -> str:
    """The secret generated into `var/` on first run, so restarts keep sessions and links valid."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HEARTH_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///var/hearth.db"
    # None means "the embedded Redis started by `make run`"; its URL is then written to var/.
    redis_url: str | None = None
    secret_key: str = Field(default_factory=_secret_from_var_dir)
    admin_email: str | None = None
    admin_password: str | None = None
    api_url: str = "http://127.0.0.1:8000"
    web_url: str = "http://127.0.0.1:8080"
    api_port: int = 8000
    web_port: int = 8080
    # Staff sessions last a working day; advocates' links live longer (they are revocable).
    staff_token_ttl_hours: int = 12
    # How long a retry with the same Idempotency-Key replays the first response; older records
    # are purged by the worker. Clients retry within minutes, so a day is ample.
    idempotency_retention_hours: int = Field(default=24, ge=1)
    # How many batches the reward calculation runs at once on PostgreSQL, each on its own
    # connection and its own part of the queue (split by member); SQLite has one writer: one.
    reward_lanes: int = Field(default=2, ge=1, le=8)
    # Activities a reward batch decides in one transaction. Each batch pays fixed costs (claim,
    # statistics, locks, one statement per kind of rule) and updates the balance of every
    # advocate it pays: a 1M backlog in two lanes took 15.4 s at 50,000 against 16.1-16.4 s at
    # 25,000 (one lane: 47 s at 10,000). The advocates a batch pays stay locked while it runs
    # (about 1.5 s at 50,000 during such a backlog, 0.8 s at 25,000): a redemption or an
    # adjustment of theirs may wait that long. Live traffic makes small batches anyway.
    reward_batch_size: int = Field(default=50_000, ge=100, le=100_000)
    # The schedule stores each active community's engagement and health reports this often,
    # each over the weeks since the last.
    report_every_weeks: int = Field(default=4, ge=1, le=52)
    json_logs: bool = False
    log_level: str = "INFO"
    # Metrics (DESIGN.md section 4): the impact score's weights, the program's focus (None: the
    # content kinds) and the influence half-life. Reports may override them per request.
    impact_weight_conversion: float = Field(default=1.0, ge=0)
    impact_weight_attendance: float = Field(default=1.0, ge=0)
    impact_weight_content: float = Field(default=1.0, ge=0)
    impact_weight_talks: float = Field(default=1.0, ge=0)
    impact_weight_referrals: float = Field(default=1.0, ge=0)
    focus_kinds: list[str] | None = None
    focus_topics: list[str] = Field(default_factory=list)
    influence_half_life_days: float = Field(default=30.0, gt=0)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()


EMBEDDED_REDIS_URL_FILE = VAR_DIR / "redis.url"


def resolve_redis_url(settings: Settings) -> str:
    """The configured Redis, else the embedded one whose address `make run` left in var/."""
    if settings.redis_url:
        return settings.redis_url
    if EMBEDDED_REDIS_URL_FILE.exists():
        return EMBEDDED_REDIS_URL_FILE.read_text().strip()
    return "redis://127.0.0.1:6379/0"
