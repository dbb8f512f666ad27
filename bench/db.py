"""The bench database: created if missing, migrated to head with Alembic (as tests/conftest.py
does), emptied between measurements. Bulk work talks to PostgreSQL through asyncpg directly.

A database the bench created carries the fingerprint of the migrations it was built from (as its
COMMENT); when a migration file changes in place, the bench drops and rebuilds it. A database the
bench did not create is only rebuilt with BENCH_RECREATE_DB=1."""

import hashlib
import os

import asyncpg
from sqlalchemy.engine import URL, make_url

from bench.config import ROOT


def asyncpg_url(url: str) -> URL:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise SystemExit(f"the bench needs PostgreSQL, not {parsed.get_backend_name()} ({url})")
    return parsed


async def connect(url: str, *, database: str | None = None) -> asyncpg.Connection:
    parsed = asyncpg_url(url)
    return await asyncpg.connect(host=parsed.host or "127.0.0.1", port=parsed.port or 5432,
                                 user=parsed.username or "postgres", password=parsed.password,
                                 database=database or parsed.database)


_MARK = "hearth-bench migrations "


def migrations_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted((ROOT / "migrations" / "versions").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


async def create_database_if_missing(url: str, *, recreate: bool = False) -> str:
    """Makes sure the database exists and was built from today's migrations; says what it did."""
    name = asyncpg_url(url).database
    fingerprint = migrations_fingerprint()
    admin = await connect(url, database="postgres")
    try:
        comment = await admin.fetchval(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
            name)
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        ours = (comment or "").startswith(_MARK)
        stale = exists and ours and comment != _MARK + fingerprint
        if exists and (recreate or stale):
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        if not exists or recreate or stale:
            await admin.execute(f'CREATE DATABASE "{name}"')
            await admin.execute(f"COMMENT ON DATABASE \"{name}\" IS '{_MARK}{fingerprint}'")
            return ("rebuilt (a migration changed)" if stale else
                    "recreated" if exists else "created")
        return "using" if ours else "using (not created by the bench)"
    finally:
        await admin.close()


def migrate(url: str) -> None:
    """Alembic to head. Runs outside any event loop: migrations/env.py calls asyncio.run."""
    from alembic import command
    from alembic.config import Config

    from shared.db import reset_engine
    from shared.settings import get_settings

    os.environ["HEARTH_DATABASE_URL"] = url
    get_settings.cache_clear()
    reset_engine()
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    command.upgrade(config, "head")


def table_names() -> list[str]:
    from sqlmodel import SQLModel

    import shared.models  # noqa: F401  (registers every table)

    return [t.name for t in reversed(SQLModel.metadata.sorted_tables)]


async def check_schema(conn: asyncpg.Connection) -> list[str]:
    """The columns and indexes the models have and the migrated database lacks: models changed
    ahead of their migration (work in progress), or a foreign database migrated before a
    migration was edited in place (BENCH_RECREATE_DB=1 rebuilds it)."""
    from sqlmodel import SQLModel

    import shared.models  # noqa: F401

    rows = await conn.fetch(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'public'")
    present = {(r["table_name"], r["column_name"]) for r in rows}
    missing = [f"{t.name}.{c.name}" for t in SQLModel.metadata.sorted_tables for c in t.columns
               if (t.name, c.name) not in present]
    indexes = {r["indexname"] for r in await conn.fetch(
        "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")}
    missing += [f"index {index.name}" for t in SQLModel.metadata.sorted_tables
                for index in t.indexes if index.name not in indexes]
    return missing


async def truncate_all(conn: asyncpg.Connection) -> None:
    """Empty tables, as a fresh installation has them (the seeded activity kinds included)."""
    from shared.models.seeds import activity_kind_rows

    await conn.execute(f"TRUNCATE {', '.join(table_names())} RESTART IDENTITY CASCADE")
    await conn.executemany(
        "INSERT INTO activity_kind (key, name, description, is_content, created_at) "
        "VALUES ($1, $2, $3, $4, now())",
        [(r["key"], r["name"], r["description"], r["is_content"]) for r in activity_kind_rows()])
