"""Settings of the web service, read from `HEARTH_*` environment variables."""

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# The same secret the api and `make run` use: generated into var/ on first run, so a restart
# keeps everyone signed in.
from shared.settings import _secret_from_var_dir


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HEARTH_", extra="ignore")

    api_url: str = "http://127.0.0.1:8000"
    secret_key: str = Field(default_factory=_secret_from_var_dir)
    # Behind TLS in production the session cookie must carry `Secure`; plain http locally.
    session_https_only: bool = False
    # Same variable as the api's: the session cookie lives exactly as long as the token it carries.
    staff_token_ttl_hours: int = 12
    api_timeout_seconds: float = 10.0
    json_logs: bool = False
    log_level: str = "INFO"


@lru_cache
def get_web_settings() -> WebSettings:
    return WebSettings()
