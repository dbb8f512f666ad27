"""The queue of pending activities (shared.activity_queue): every way of storing an activity
queues it, a claim lost to a crash puts the activities back, concurrent claims are disjoint, and
the sweep queues pending activities that bypassed the queue."""

import asyncio
import os
from collections import Counter

import pytest
from sqlalchemy import func, select, text

from services.worker.rewards import begin_batch, process_batch, requeue_unqueued
from shared.activity_queue import Lane, claim
from shared.db import get_sessionmaker, session_scope
from shared.models import Activity, ActivityPending, LedgerEntry
from shared.models.rewards import QUEUE_SHARDS
from tests.api.test_activities import activity, make_advocate, post_activities
from tests.worker.test_rewards import assert_books_balance, make_incentive

ON_POSTGRESQL = bool(os.environ.get("HEARTH_TEST_DATABASE_URL"))


class Crash(Exception):
    pass


async def queued() -> set[int]:
    async with session_scope() as session:
        return set((await session.exec(select(ActivityPending.activity_id))).scalars().all())


async def awards_per_activity() -> Counter:
    async with session_scope() as session:
        return Counter((await session.exec(select(LedgerEntry.activity_id))).scalars().all())


async def test_storing_an_activity_queues_it_and_a_replay_does_not(client, admin):
    ada = await make_advocate()
    body = activity(ada["member_id"])
    ids = await post_activities(client, admin["headers"], body, activity(ada["member_id"]))
    assert await queued() == set(ids)
    await post_activities(client, admin["headers"], body)  # a replay
    assert await queued() == set(ids)


async def test_a_crash_between_claim_and_commit_loses_nothing(client, admin):
    ada = await make_advocate()
    await make_incentive(client, admin["headers"], cap=None)
    ids = await post_activities(client, admin["headers"],
                                *(activity(ada["member_id"]) for _ in range(5)))
    with pytest.raises(Crash):
        async with session_scope() as session:
            await begin_batch(session)
            claimed = (await session.exec(claim(100))).scalars().all()
            assert sorted(claimed) == sorted(ids)
            raise Crash  # the worker dies before its batch commits
    assert await queued() == set(ids)
    assert await process_batch() == 5
    assert await queued() == set()
    assert await awards_per_activity() == Counter({id_: 1 for id_ in ids})
    await assert_books_balance()


async def test_lanes_split_the_queue_by_member_lowest_ids_first(client, admin):
    members = [(await make_advocate(f"A{i}"))["member_id"] for i in range(QUEUE_SHARDS + 3)]
    ids = await post_activities(client, admin["headers"],
                                *(activity(member) for _ in range(3) for member in members))
    member_of = dict(zip(ids, [member for _ in range(3) for member in members], strict=True))
    taken: dict[int, list[int]] = {}
    async with session_scope() as session:
        dialect = session.bind.dialect.name  # PostgreSQL's own form of the claim, if there
        for index in (0, 1):
            lane = Lane(index, 2)
            first = (await session.exec(claim(5, dialect, lane))).scalars().all()
            rest = (await session.exec(claim(1000, dialect, lane))).scalars().all()
            in_lane = sorted(i for i in ids if member_of[i] % QUEUE_SHARDS in lane.shards())
            # The lane's five lowest ids first, then the rest of it; nothing of the other lane.
            assert sorted(first) == in_lane[:5] and sorted(rest) == in_lane[5:]
            taken[index] = [*first, *rest]
    assert sorted(taken[0] + taken[1]) == sorted(ids)
    assert {member_of[i] for i in taken[0]}.isdisjoint({member_of[i] for i in taken[1]})


@pytest.mark.skipif(not ON_POSTGRESQL,
                    reason="concurrent claims are a PostgreSQL property; SQLite has one writer")
async def test_concurrent_claims_are_disjoint(client, admin):
    ada = await make_advocate()
    ids = await post_activities(client, admin["headers"],
                                *(activity(ada["member_id"]) for _ in range(30)))
    maker = get_sessionmaker()
    async with maker() as first, maker() as second:
        mine = set((await first.exec(claim(10))).scalars().all())
        # The first claim still holds its rows: the second skips them, without waiting.
        theirs = set((await second.exec(claim(10))).scalars().all())
        assert mine == set(sorted(ids)[:10]) and theirs == set(sorted(ids)[10:20])
        await first.rollback()
        await second.commit()
    assert await queued() == set(ids) - theirs


@pytest.mark.skipif(not ON_POSTGRESQL,
                    reason="concurrent writers are a PostgreSQL property; SQLite has one writer")
async def test_racing_workers_pay_each_activity_once(client, admin):
    advocates = [await make_advocate(f"A{i}") for i in range(5)]
    await make_incentive(client, admin["headers"], cap=None)
    ids = await post_activities(client, admin["headers"], *(
        activity(a["member_id"]) for a in advocates for _ in range(60)))

    async def drain() -> int:
        done = 0
        while processed := await process_batch(size=17):
            done += processed
        return done

    assert sum(await asyncio.gather(*(drain() for _ in range(4)))) == len(ids)
    assert await awards_per_activity() == Counter({id_: 1 for id_ in ids})
    assert await queued() == set()
    await assert_books_balance()


async def test_the_sweep_queues_pending_activities_that_bypassed_the_queue(client, admin):
    ada = await make_advocate()
    await make_incentive(client, admin["headers"], cap=None)
    [lost, kept] = await post_activities(client, admin["headers"], activity(ada["member_id"]),
                                         activity(ada["member_id"]))
    async with session_scope() as session:  # as a bulk load or a manual fix might leave it
        await session.exec(text("DELETE FROM activity_pending WHERE activity_id = :id"),
                           params={"id": lost})
    assert await queued() == {kept}
    assert await requeue_unqueued() == 1
    assert await queued() == set()
    assert await awards_per_activity() == Counter({lost: 1, kept: 1})
    assert await requeue_unqueued() == 0
    async with session_scope() as session:
        pending = (await session.exec(select(func.count()).select_from(Activity)
                                      .where(Activity.processed_at.is_(None)))).scalar_one()
    assert pending == 0
