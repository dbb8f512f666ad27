"""Test environment: a fresh database migrated with Alembic (PostgreSQL when
HEARTH_TEST_DATABASE_URL is set, else SQLite) and a real Redis (HEARTH_TEST_REDIS_URL, else the
embedded server). Every test starts from empty tables."""

import asyncio
import os
import secrets
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

# Live api/web/worker servers for the web and browser tests (pytest loads plugins only from here).
pytest_plugins = ["tests.live"]

ROOT = Path(__file__).resolve().parent.parent
_TMP = Path(tempfile.mkdtemp(prefix="hearth-tests-"))
IN_CI = os.environ.get("CI") == "true"


def _database_url() -> tuple[str, str | None]:
    """The URL tests use, and for PostgreSQL the name of the throwaway database to drop."""
    base = os.environ.get("HEARTH_TEST_DATABASE_URL")
    if not base:
        return f"sqlite+aiosqlite:///{_TMP / 'hearth-test.db'}", None
    name = f"hearth_test_{uuid.uuid4().hex[:10]}"
    return make_url(base).set(database=name).render_as_string(hide_password=False), name


DATABASE_URL, PG_DATABASE = _database_url()
os.environ["HEARTH_DATABASE_URL"] = DATABASE_URL
os.environ["HEARTH_SECRET_KEY"] = secrets.token_urlsafe(32)
os.environ.pop("HEARTH_ADMIN_EMAIL", None)
os.environ.pop("HEARTH_ADMIN_PASSWORD", None)


async def _admin_pg(sql: str) -> None:
    import asyncpg

    url = make_url(os.environ["HEARTH_TEST_DATABASE_URL"])
    conn = await asyncpg.connect(host=url.host or "127.0.0.1", port=url.port or 5432,
                                 user=url.username or "postgres", password=url.password,
                                 database="postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _run_migrations() -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    command.upgrade(config, "head")


@pytest.fixture(scope="session")
def redis_url() -> AsyncIterator[str]:
    url = os.environ.get("HEARTH_TEST_REDIS_URL")
    if url:
        os.environ["HEARTH_REDIS_URL"] = url
        yield url
        return
    from shared.embedded_redis import free_port, start_embedded_redis

    port = free_port()
    process = start_embedded_redis(port, _TMP / "redis")
    url = f"redis://127.0.0.1:{port}/0"
    os.environ["HEARTH_REDIS_URL"] = url
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="session", autouse=True)
async def database(redis_url: str) -> AsyncIterator[str]:
    if PG_DATABASE:
        await _admin_pg(f'CREATE DATABASE "{PG_DATABASE}"')
    from shared.db import reset_engine
    from shared.settings import get_settings

    get_settings.cache_clear()
    reset_engine()
    await asyncio.to_thread(_run_migrations)
    yield DATABASE_URL
    from shared.db import get_engine

    await get_engine().dispose()
    if PG_DATABASE:
        await _admin_pg(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
    shutil.rmtree(_TMP, ignore_errors=True)


async def _empty_tables(engine, tables: list[str]) -> None:
    from sqlalchemy import text

    from shared.models import ActivityKind
    from shared.models.base import utcnow
    from shared.models.seeds import activity_kind_rows

    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                await conn.execute(text(f"DELETE FROM {table}"))
        # Reference data the migrations seed; tests expect it like a fresh installation has it.
        await conn.execute(ActivityKind.__table__.insert(),
                           [{**row, "created_at": utcnow()} for row in activity_kind_rows()])


@pytest.fixture(autouse=True)
async def clean_tables(database: str, redis_url: str) -> AsyncIterator[None]:
    yield
    from sqlalchemy.exc import DBAPIError
    from sqlmodel import SQLModel

    from shared.db import get_engine

    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    # The live worker of the browser tests may still be paying a test's activities; TRUNCATE can
    # then deadlock with it. The worker's transaction is short, so trying again succeeds.
    for attempt in range(10):
        try:
            await _empty_tables(get_engine(), tables)
            break
        except DBAPIError as error:
            if "deadlock" not in str(error) or attempt == 9:
                raise
            await asyncio.sleep(0.2 * (attempt + 1))
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    await client.flushdb()
    await client.aclose()


@pytest.fixture
async def client() -> AsyncIterator:
    """The real API app in-process over ASGI."""
    import httpx

    from services.api.main import app

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
        yield http


@pytest.fixture
def make_staff() -> Callable[..., Awaitable[dict]]:
    """Creates a staff user of a role and returns {id, email, password, token, headers}."""
    from services.api.auth.security import digest, hash_password, new_token
    from shared.db import session_scope
    from shared.models import AuthToken, StaffUser
    from shared.models.base import utcnow

    async def _make(role: str = "admin", *, email: str | None = None,
                    password: str = "correct-horse-battery") -> dict:
        from datetime import timedelta

        email = email or f"{role}-{uuid.uuid4().hex[:6]}@example.org"
        token = new_token("hst")
        async with session_scope() as session:
            user = StaffUser(email=email, name=role.title(), role=role,
                             password_hash=hash_password(password))
            session.add(user)
            await session.flush()
            session.add(AuthToken(token_hash=digest(token), staff_user_id=user.id,
                                  expires_at=utcnow() + timedelta(hours=1)))
            user_id = user.id
        return {"id": user_id, "email": email, "password": password, "token": token,
                "headers": {"Authorization": f"Bearer {token}"}}

    return _make


@pytest.fixture
async def admin(make_staff) -> dict:
    return await make_staff("admin")


@pytest.fixture
def make_api_key(client, admin) -> Callable[..., Awaitable[dict]]:
    """Creates an API key with scopes through the API; returns its headers."""

    async def _make(*scopes: str) -> dict:
        response = await client.post("/v1/api-keys", json={"name": "test", "scopes": list(scopes)},
                                     headers=admin["headers"])
        assert response.status_code == 201, response.text
        return {"Authorization": f"Bearer {response.json()['key']}"}

    return _make
