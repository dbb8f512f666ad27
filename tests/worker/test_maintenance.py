"""Idempotency records are purged by the worker's cron once past their retention: set-based,
against the real database, and a purged key no longer replays."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from services.worker.main import WorkerSettings
from services.worker.maintenance import purge_idempotency_records
from shared.db import session_scope
from shared.models import IdempotencyRecord, LedgerEntry
from shared.models.base import utcnow
from shared.settings import get_settings
from tests.api.advocacy import count_rows, make_advocate


async def add_records(*ages: timedelta) -> list[int]:
    now = utcnow()
    async with session_scope() as session:
        records = [IdempotencyRecord(caller="staff:1", key=f"key-{n}", method="POST",
                                     path="/v1/redemptions", request_hash="0" * 64,
                                     status_code=201, response_body="{}", created_at=now - age)
                   for n, age in enumerate(ages)]
        session.add_all(records)
        await session.flush()
        return [record.id for record in records]


async def remaining() -> set[int]:
    async with session_scope() as session:
        return set((await session.exec(select(IdempotencyRecord.id))).scalars())


async def test_records_past_the_default_day_are_purged_and_newer_ones_kept():
    assert get_settings().idempotency_retention_hours == 24
    _, _, fresh, nearly = await add_records(
        timedelta(hours=25), timedelta(days=30), timedelta(minutes=1), timedelta(hours=23))
    assert await purge_idempotency_records({}) == 2
    assert await remaining() == {fresh, nearly}
    # A second run (or a second worker) finds nothing left to do.
    assert await purge_idempotency_records({}) == 0
    assert await remaining() == {fresh, nearly}
    assert await purge_idempotency_records({}, now=utcnow() + timedelta(hours=2)) == 1
    assert await remaining() == {fresh}


@pytest.fixture
def two_hour_retention(monkeypatch):
    monkeypatch.setenv("HEARTH_IDEMPOTENCY_RETENTION_HOURS", "2")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


async def test_the_retention_is_a_setting(two_hour_retention):
    _, kept = await add_records(timedelta(hours=3), timedelta(hours=1))
    assert await purge_idempotency_records({}) == 1
    assert await remaining() == {kept}


def test_a_retention_below_an_hour_is_refused(monkeypatch):
    monkeypatch.setenv("HEARTH_IDEMPOTENCY_RETENTION_HOURS", "0")
    with pytest.raises(ValueError, match="idempotency_retention_hours"):
        type(get_settings())()


async def test_a_purged_key_no_longer_replays(client, admin):
    advocate = await make_advocate(client, admin["headers"])
    headers = {**admin["headers"], "Idempotency-Key": "adjust-once"}
    url = f"/v1/advocates/{advocate['id']}/adjustments"
    body = {"points": 10, "reason": "Late payment"}
    first = await client.post(url, json=body, headers=headers)
    replay = await client.post(url, json=body, headers=headers)
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.json() == first.json() and await count_rows(LedgerEntry) == 1

    async with session_scope() as session:
        await session.exec(update(IdempotencyRecord)
                           .values(created_at=utcnow() - timedelta(hours=25)))
    assert await purge_idempotency_records({}) == 1
    again = await client.post(url, json=body, headers=headers)
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert again.json()["id"] != first.json()["id"] and await count_rows(LedgerEntry) == 2


def test_the_purge_is_an_hourly_cron_of_the_worker():
    (job,) = [job for job in WorkerSettings.cron_jobs
              if job.coroutine is purge_idempotency_records]
    assert job.minute == 7 and job.second == 45
