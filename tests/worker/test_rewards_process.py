"""The reward calculation under crashes and concurrency: a real worker process killed with SIGKILL
in the middle of a run, passes racing each other on PostgreSQL, and a lost job."""

import asyncio
import os
import signal
import subprocess
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis
from sqlalchemy import event, func, select

from services.worker.rewards import process_batch
from shared.activity_queue import Lane, insert_activities
from shared.db import get_engine, session_scope
from shared.models import Activity, Advocate, LedgerEntry
from shared.models.base import utcnow
from shared.rules.calendar import local_buckets
from tests.api.test_activities import (
    activity,
    make_advocate,
    make_community,
    make_member,
    post_activities,
)
from tests.conftest import ROOT
from tests.worker.test_rewards import assert_books_balance, make_incentive

START = datetime(2026, 11, 2, 6, tzinfo=UTC)
TALK_POINTS, TALK_CAP, POST_POINTS = 100, 3, 7
# The worker process's batches: small, so that a run of a few thousand activities has several
# in each lane.
WORKER_BATCH = 2_000


async def load_activities(member_ids: list[int], community_id: int, per_member: int) -> None:
    """Talks and posts, a few an hour for each member, inserted in the order they occurred: ids
    follow occurred_at, so which talks a daily cap pays does not depend on batch boundaries."""
    rows = []
    for n in range(per_member):
        at = START + timedelta(minutes=50 * n)
        day, week, month = local_buckets(at, "Asia/Tokyo")
        for member_id in member_ids:
            rows.append({"member_id": member_id, "community_id": community_id,
                         "kind": "talk_given" if n % 2 else "post_created", "occurred_at": at,
                         "source": "load", "external_id": f"{member_id}-{n}", "properties": {},
                         "local_day": day, "local_week": week, "local_month": month,
                         "received_at": utcnow()})
    async with session_scope() as session:
        for start in range(0, len(rows), 2000):
            await insert_activities(session, rows[start:start + 2000])


def expected_awards(rows: list[tuple[int, int, str, datetime, object]],
                    advocate_of: dict[int, int], talks: int, posts: int) -> set[tuple]:
    """What the rules pay, computed here without the engine: every post, and each advocate's
    first TALK_CAP talks of each local day."""
    paid_per_day: Counter = Counter()
    awards = set()
    for activity_id, member_id, kind, _, day in sorted(rows, key=lambda r: (r[3], r[0])):
        advocate_id = advocate_of[member_id]
        if kind == "post_created":
            awards.add((activity_id, posts, advocate_id, POST_POINTS))
        elif paid_per_day[advocate_id, day] < TALK_CAP:
            paid_per_day[advocate_id, day] += 1
            awards.add((activity_id, talks, advocate_id, TALK_POINTS))
    return awards


async def ledger() -> set[tuple]:
    async with session_scope() as session:
        return {tuple(row) for row in (await session.exec(select(
            LedgerEntry.activity_id, LedgerEntry.incentive_id, LedgerEntry.advocate_id,
            LedgerEntry.points))).all()}


async def processed() -> int:
    async with session_scope() as session:
        return (await session.exec(select(func.count()).select_from(Activity)
                                   .where(Activity.processed_at.is_not(None)))).scalar_one()


def start_worker() -> subprocess.Popen:
    # The test's own database and Redis: conftest put them in this process's environment.
    return subprocess.Popen([str(ROOT / ".venv/bin/arq"), "services.worker.main.WorkerSettings"],
                            cwd=ROOT, env={**os.environ, "HEARTH_REWARD_BATCH_SIZE":
                                           str(WORKER_BATCH)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


async def wait_until(condition, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_a_worker_killed_mid_run_leaves_an_exact_ledger(client, admin):
    tokyo = await make_community("Asia/Tokyo")
    advocates = [await make_advocate(f"A{i}") for i in range(80)]
    talks = await make_incentive(client, admin["headers"], cap={"max": TALK_CAP, "per": "day"})
    posts = await make_incentive(client, admin["headers"], name="Posts",
                                 activity_kind="post_created", points=POST_POINTS, cap=None)
    await load_activities([a["member_id"] for a in advocates], tokyo, per_member=400)
    total = 80 * 400

    worker = start_worker()
    try:
        # Killed as soon as a batch has committed, in the middle of the next ones.
        await wait_until(lambda: _at_least(WORKER_BATCH))
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        worker.kill()
    done = await processed()
    # Whole batches: on PostgreSQL each of the two lanes commits its own.
    assert 0 < done < total and done % WORKER_BATCH == 0
    # What committed is whole: entries only for processed activities, balances that add up.
    async with session_scope() as session:
        unprocessed_paid = (await session.exec(
            select(func.count()).select_from(LedgerEntry)
            .join(Activity, Activity.id == LedgerEntry.activity_id)
            .where(Activity.processed_at.is_(None)))).scalar_one()
    assert unprocessed_paid == 0
    await assert_books_balance()

    worker = start_worker()
    try:
        await wait_until(lambda: _at_least(total))
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)

    async with session_scope() as session:
        rows = (await session.exec(select(Activity.id, Activity.member_id, Activity.kind,
                                          Activity.occurred_at, Activity.local_day))).all()
    advocate_of = {a["member_id"]: a["id"] for a in advocates}
    expected = expected_awards(rows, advocate_of, talks["id"], posts["id"])
    assert await ledger() == expected
    await assert_books_balance()
    per_advocate: Counter = Counter()
    for _, _, advocate_id, points in expected:
        per_advocate[advocate_id] += points
    async with session_scope() as session:
        balances = dict((await session.exec(select(Advocate.id, Advocate.balance))).all())
    assert balances == per_advocate


async def _at_least(count: int) -> bool:
    return await processed() >= count


@pytest.mark.skipif(not os.environ.get("HEARTH_TEST_DATABASE_URL"),
                    reason="concurrent writers are a PostgreSQL property; SQLite has one writer")
async def test_concurrent_passes_never_pay_twice(client, admin):
    headers = admin["headers"]
    tokyo = await make_community("Asia/Tokyo")
    advocates = [await make_advocate(f"A{i}") for i in range(40)]
    referred = [await make_member(f"R{i}", referred_by_code=advocates[i]["referral_code"])
                for i in range(10)]
    talks = await make_incentive(headers=headers, client=client,
                                 cap={"max": TALK_CAP, "per": "day"})
    posts = await make_incentive(client, headers, name="Posts", activity_kind="post_created",
                                 points=POST_POINTS, cap=None)
    milestone = await make_incentive(client, headers, "milestone", activity_kind="talk_given",
                                     count=5)
    first_n = await make_incentive(client, headers, "first_n", activity_kind="post_created", n=7)
    referral = await make_incentive(client, headers, "referral", activity_kind="post_created")
    await load_activities([a["member_id"] for a in advocates] + referred, tokyo, per_member=60)

    async def drain(lane: Lane) -> None:
        # Small batches, so that the passes interleave on the same advocates.
        while await process_batch(size=97, lane=lane):
            pass

    # Two passes over all of the queue and two over each half of it, split by member.
    await asyncio.gather(*(drain(lane) for lane in (Lane(), Lane(), Lane(0, 2), Lane(1, 2))))
    assert await processed() == 50 * 60

    async with session_scope() as session:
        rows = (await session.exec(select(Activity.id, Activity.member_id, Activity.kind,
                                          Activity.occurred_at, Activity.local_day)
                                   .where(Activity.member_id.in_(
                                       [a["member_id"] for a in advocates])))).all()
        bonuses = (await session.exec(select(LedgerEntry.incentive_id, LedgerEntry.advocate_id)
                                      .where(LedgerEntry.kind == "bonus"))).all()
    advocate_of = {a["member_id"]: a["id"] for a in advocates}
    day_of = {row[0]: row[4] for row in rows}

    def per_day(awards) -> Counter:
        # Batches racing each other may fill a day's cap in another order than the activities
        # occurred: which talks are paid may differ, how many may not.
        return Counter((incentive_id, advocate_id, day_of[activity_id], points)
                       for activity_id, incentive_id, advocate_id, points in awards)

    awards = {row for row in await ledger() if row[1] in (talks["id"], posts["id"])}
    assert per_day(awards) == per_day(expected_awards(rows, advocate_of, talks["id"], posts["id"]))
    paid: dict[int, list[int]] = defaultdict(list)
    for incentive_id, advocate_id in bonuses:
        paid[incentive_id].append(advocate_id)
    assert sorted(paid[milestone["id"]]) == sorted(a["id"] for a in advocates)
    assert len(paid[first_n["id"]]) == 7 == len(set(paid[first_n["id"]]))
    assert sorted(paid[referral["id"]]) == sorted(a["id"] for a in advocates[:10])
    await assert_books_balance()


async def test_the_cron_finds_activities_whose_job_was_lost(client, admin, redis_url, run_worker):
    ada = await make_advocate()
    await make_incentive(client, admin["headers"], cap=None)
    await post_activities(client, admin["headers"], activity(ada["member_id"]))
    redis = Redis.from_url(redis_url)
    try:
        await redis.flushdb()  # the queued job is lost
    finally:
        await redis.aclose()
    await run_worker()  # a worker starting up runs the sweep at once, then every minute
    async with session_scope() as session:
        assert (await session.get(Advocate, ada["id"])).balance == 100


async def test_a_batch_binds_few_parameters_however_large(client, admin):
    # SQLite builds allow as few as 32,766 parameters a statement, PostgreSQL 65,535: a batch
    # binds its activity ids as one (an array, a JSON list), whatever its size.
    tokyo = await make_community("Asia/Tokyo")
    advocates = [await make_advocate(f"A{i}") for i in range(40)]
    await make_incentive(client, admin["headers"], name="Posts", activity_kind="post_created",
                         points=POST_POINTS, cap=None)
    await load_activities([a["member_id"] for a in advocates], tokyo, per_member=840)
    bound: list[int] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        bound.append(len(parameters or ()))

    event.listen(get_engine().sync_engine, "before_cursor_execute", count)
    try:
        assert await process_batch(size=40_000) == 40 * 840
    finally:
        event.remove(get_engine().sync_engine, "before_cursor_execute", count)
    assert bound and max(bound) < 1_000
    async with session_scope() as session:
        paid = (await session.exec(select(func.count()).select_from(LedgerEntry))).scalar_one()
    assert paid == 40 * 840 // 2  # every post, no talk
    await assert_books_balance()
