"""The one way activities are stored, and the worker's queue of the activities still to decide.

Every stored activity gets a row in `activity_pending` in the same transaction
(`insert_activities`); the reward calculation claims rows from it (`claim`) and deletes them in
the transaction that records the activities' outcome, so an activity is pending exactly while its
queue row exists and `processed_at` is NULL. A crash before that commit rolls the claim back: the
activities are pending again. `ENQUEUE_UNQUEUED_SQL` repairs the one thing a queue table could
lose: a pending activity written by some path without its queue row (a bulk load, a manual fix);
the worker's hourly sweep runs it."""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import select, text
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.ledger import insert_ignoring_duplicates
from shared.models import Activity, ActivityPending
from shared.models.rewards import QUEUE_SHARDS

ACTIVITY = Activity.__table__
PENDING = ActivityPending.__table__

ActivityKey = tuple[str, str]  # (source, external_id)

# What a row given to insert_activities carries, in the order of the PostgreSQL arrays below.
ACTIVITY_COLUMNS = ("member_id", "community_id", "kind", "occurred_at", "source", "external_id",
                    "properties", "local_day", "local_week", "local_month", "received_at")

# PostgreSQL: one statement whatever the number of rows, its values bound as one array per
# column (a few parameters, not 11 per row), the queue rows written by the same statement.
# ORDER BY the position: ids follow the order of the rows, and of two rows with one key the first
# is stored (the second meets the conflict).
_INSERT_AND_ENQUEUE_PG = text("""
    WITH new AS (
        INSERT INTO activity (member_id, community_id, kind, occurred_at, source, external_id,
                              properties, local_day, local_week, local_month, received_at)
        SELECT member_id, community_id, kind, occurred_at, source, external_id,
               CAST(properties AS json), local_day, local_week, local_month, received_at
        FROM unnest(CAST(:member_id AS integer[]), CAST(:community_id AS integer[]),
                    CAST(:kind AS text[]), CAST(:occurred_at AS timestamptz[]),
                    CAST(:source AS text[]), CAST(:external_id AS text[]),
                    CAST(:properties AS text[]), CAST(:local_day AS date[]),
                    CAST(:local_week AS date[]), CAST(:local_month AS date[]),
                    CAST(:received_at AS timestamptz[]))
             WITH ORDINALITY AS given (member_id, community_id, kind, occurred_at, source,
                                       external_id, properties, local_day, local_week,
                                       local_month, received_at, ordinal)
        ORDER BY ordinal
        ON CONFLICT (source, external_id) DO NOTHING
        RETURNING id, member_id, source, external_id),
    queued AS (INSERT INTO activity_pending (activity_id, member_id)
               SELECT id, member_id FROM new)
    SELECT source, external_id, id FROM new""")

# Plain SQL, so that the bench's loader (asyncpg, no SQLAlchemy) runs the very same statement.
ENQUEUE_UNQUEUED_SQL = """
    INSERT INTO activity_pending (activity_id, member_id)
    SELECT id, member_id FROM activity
    WHERE processed_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM activity_pending WHERE activity_id = activity.id)"""


async def insert_activities(
    session: AsyncSession, rows: Sequence[dict[str, Any]]
) -> dict[ActivityKey, int]:
    """Stores the rows (ACTIVITY_COLUMNS) whose (source, external_id) is new and queues them for
    the reward calculation; returns the new ones' ids by that key. Replays store nothing."""
    if not rows:
        return {}
    if session.bind.dialect.name == "postgresql":
        params = {name: [row[name] for row in rows] for name in ACTIVITY_COLUMNS}
        params["properties"] = [json.dumps(properties) for properties in params["properties"]]
        inserted = (await session.exec(_INSERT_AND_ENQUEUE_PG, params=params)).all()
        return {(source, external_id): id_ for source, external_id, id_ in inserted}
    # SQLite: one writer and no arrays; executemany in the same transaction.
    inserted = (await session.exec(
        insert_ignoring_duplicates(session, ACTIVITY)
        .returning(ACTIVITY.c.source, ACTIVITY.c.external_id, ACTIVITY.c.id,
                   ACTIVITY.c.member_id),
        params=[{name: row[name] for name in ACTIVITY_COLUMNS} for row in rows],
    )).all()
    if inserted:
        await session.exec(PENDING.insert(), params=[{"activity_id": id_, "member_id": member_id}
                                                     for _, _, id_, member_id in inserted])
    return {(source, external_id): id_ for source, external_id, id_, _ in inserted}


@dataclass(frozen=True)
class Lane:
    """One of `count` disjoint parts of the queue, split by member: concurrent batches of
    different lanes pay different advocates (referrers apart), so they seldom wait for each
    other's locks, and PostgreSQL works on them on several cores at once. Each lane takes its
    activities lowest ids first."""

    index: int = 0
    count: int = 1

    def shards(self) -> list[int]:
        return list(range(self.index, QUEUE_SHARDS, self.count))


ALL_LANES = Lane()

# PostgreSQL: the locked rows are deleted by their physical address (a TID scan), not looked up
# again through the primary key: 10,000 rows in about half the time.
_CLAIM_ALL_PG = text("""
    DELETE FROM activity_pending
    WHERE ctid = ANY(ARRAY(SELECT ctid FROM activity_pending ORDER BY activity_id
                           LIMIT :size FOR UPDATE SKIP LOCKED))
    RETURNING activity_id""")


_CLAIM_LANE_PG = """
    DELETE FROM activity_pending
    WHERE ctid = ANY(ARRAY(
        SELECT ctid FROM activity_pending
        WHERE ctid = ANY(ARRAY(SELECT ctid FROM ({branches}) AS lane
                               ORDER BY activity_id LIMIT :size))
        FOR UPDATE SKIP LOCKED))
    RETURNING activity_id"""
_CLAIM_SHARD_PG = """(SELECT ctid, activity_id FROM activity_pending
    WHERE member_id % {shards} = {index} ORDER BY member_id % {shards}, activity_id LIMIT :size)"""


def _claim_lane_pg(lane: Lane) -> sa.TextClause:
    """A lane's claim: the lowest activity ids of its shards, merged from one range of
    ix_activity_pending_shard per shard (the other lanes' rows are never read), then locked.
    A row another pass holds is skipped, not replaced: that pass decides it. Built from
    integers only (the shard count and the lane's shard numbers)."""
    branches = " UNION ALL ".join(_CLAIM_SHARD_PG.format(shards=QUEUE_SHARDS, index=index)
                                  for index in lane.shards())
    return text(_CLAIM_LANE_PG.format(branches=branches))


def claimed_cte(size: int, lane: Lane = ALL_LANES) -> sa.CTE:
    """PostgreSQL: claim() as a CTE `claimed` (activity_id), for a statement that goes on to use
    the activities it takes (shared.rules.awards.fill_batch_from_queue)."""
    if lane.count == 1:
        statement = _CLAIM_ALL_PG.bindparams(size=size)
    else:
        statement = _claim_lane_pg(lane).bindparams(size=size)
    return statement.columns(sa.column("activity_id", sa.BigInteger)).cte("claimed")


def claim(size: int, dialect: str | None = None, lane: Lane = ALL_LANES) -> sa.Executable:
    """Takes up to `size` activities of `lane` off the queue, lowest ids first, returning their
    ids (in no particular order). On PostgreSQL, rows another batch holds are skipped, so
    concurrent workers claim disjoint batches; the claim holds until the transaction ends, and a
    rollback puts the activities back. SQLite has a single writer and ignores the lock clause.
    `dialect` "postgresql" picks that database's faster form; the default one runs on both."""
    if dialect == "postgresql":
        return select(claimed_cte(size, lane).c.activity_id)
    claimable = select(PENDING.c.activity_id)
    if lane.count > 1:
        claimable = claimable.where((PENDING.c.member_id % QUEUE_SHARDS).in_(lane.shards()))
    claimable = (claimable.order_by(PENDING.c.activity_id).limit(size)
                 .with_for_update(skip_locked=True).cte("claimable"))
    return (sa.delete(PENDING)
            .where(PENDING.c.activity_id.in_(select(claimable.c.activity_id)))
            .returning(PENDING.c.activity_id))


def pending_ids() -> sa.Select:
    """The ids of the activities awaiting their award decision."""
    return select(PENDING.c.activity_id)


async def enqueue_unqueued(session: AsyncSession) -> int:
    """Queues pending activities that have no queue row; returns how many it found."""
    return (await session.exec(text(ENQUEUE_UNQUEUED_SQL))).rowcount
