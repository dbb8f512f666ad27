"""Pooled connections are not pinged before use (shared.db.make_engine): one the server has
dropped is found by a request's first statement, and that statement is retried on a fresh
connection, so the request still succeeds."""

import asyncio
import os

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.api.advocacy import access_headers, make_advocate
from tests.conftest import _admin_pg

pytestmark = pytest.mark.skipif(not os.environ.get("HEARTH_TEST_DATABASE_URL"),
                                reason="a server that drops connections: PostgreSQL")


@pytest.fixture(autouse=True)
async def fresh_pool_afterwards():
    """These tests kill the server side of pooled connections; the tests after them start with a
    new pool rather than meet a connection left dead on purpose."""
    yield
    from shared.db import get_engine

    await get_engine().dispose()


async def drop_pooled_connections() -> None:
    """What a database restart or a proxy's idle timeout does to the api's idle connections."""
    from shared.db import get_engine

    database = get_engine().url.database
    await _admin_pg(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    f"WHERE datname = '{database}' AND pid <> pg_backend_pid()")


async def pooled_connections() -> int:
    from shared.db import get_engine

    return get_engine().pool.checkedin()


async def warm_pool(client, headers: dict, path: str) -> None:
    # Concurrent requests, so that the pool holds several idle connections to be dropped: the
    # retry must not just take the next dead one.
    for _ in range(3):
        responses = await asyncio.gather(*(client.get(path, headers=headers) for _ in range(8)))
        assert all(response.status_code == 200 for response in responses)


@pytest.mark.parametrize("path", ["/v1/me", "/v1/me/ledger"])
async def test_an_advocate_read_survives_dropped_connections(client, admin, path):
    advocate = await make_advocate(client, admin["headers"], points=40)
    me = await access_headers(client, admin["headers"], advocate["id"])
    await warm_pool(client, me, path)
    assert await pooled_connections() > 1
    await drop_pooled_connections()
    response = await client.get(path, headers=me)
    assert response.status_code == 200, response.text


async def test_a_staff_request_survives_dropped_connections(client, admin):
    advocate = await make_advocate(client, admin["headers"], points=40)
    path = f"/v1/advocates/{advocate['id']}"
    await warm_pool(client, admin["headers"], path)
    await drop_pooled_connections()
    response = await client.get(path, headers=admin["headers"])
    assert response.status_code == 200 and response.json()["balance"] == 40


async def test_the_worker_session_reconnects_after_a_drop(client, admin):
    from shared.db import session_scope

    async with session_scope() as session:
        await session.exec(text("SELECT 1"))
    await drop_pooled_connections()
    # The first unit of work may fail (it is not retried: jobs are), and only as a dropped
    # connection does; the pool is renewed by it.
    try:
        async with session_scope() as session:
            await session.exec(text("SELECT 1"))
    except DBAPIError as error:
        assert error.connection_invalidated
    async with session_scope() as session:
        assert (await session.exec(text("SELECT 1"))).scalar() == 1
