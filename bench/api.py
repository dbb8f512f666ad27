"""The real api as production runs it, on a free port against the bench database, and a staff
admin to drive it through its public contract (sign-in, API keys, access links)."""

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
import httpx

from bench.config import BenchConfig
from bench.server import Server, serve

ADMIN_EMAIL = "bench-admin@example.org"
# The bench's own throwaway admin in its own database, not a credential.
ADMIN_PASSWORD = "bench-" + secrets.token_urlsafe(12)


def api_env(cfg: BenchConfig) -> dict[str, str]:
    """Production's settings (docker-compose.yml): JSON logs at INFO, an explicit Redis."""
    return {"HEARTH_DATABASE_URL": cfg.database_url, "HEARTH_REDIS_URL": cfg.redis_url,
            "HEARTH_SECRET_KEY": "bench-secret-" + "x" * 40, "HEARTH_JSON_LOGS": "true",
            "HEARTH_LOG_LEVEL": "INFO", "HEARTH_ADMIN_EMAIL": "", "HEARTH_ADMIN_PASSWORD": ""}


@contextmanager
def api_server(cfg: BenchConfig) -> Iterator[Server]:
    with serve("api", "services.api.main:app", api_env(cfg), ready_path="/healthz") as server:
        yield server


async def create_admin(conn: asyncpg.Connection) -> None:
    from services.api.auth.security import hash_password

    await conn.execute(
        "INSERT INTO staff_user (email, name, role, password_hash, is_active, created_at) "
        "VALUES ($1, 'Bench admin', 'admin', $2, true, now())",
        ADMIN_EMAIL, hash_password(ADMIN_PASSWORD))


async def admin_headers(http: httpx.AsyncClient) -> dict[str, str]:
    response = await http.post("/v1/auth/login",
                               json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def create_api_key(http: httpx.AsyncClient, admin: dict[str, str], *scopes: str) -> str:
    response = await http.post("/v1/api-keys", json={"name": "bench", "scopes": list(scopes)},
                               headers=admin)
    response.raise_for_status()
    return response.json()["key"]
