from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlmodel import col, select, tuple_
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.pagination import PageParams, paginate_query
from shared.activity_queue import ActivityKey, pending_ids
from shared.models import Activity, Community


async def existing_ids(session: AsyncSession, id_column: Any, ids: Iterable[int]) -> set[int]:
    """Which of `ids` exist in `id_column`'s table."""
    ids = set(ids)
    if not ids:
        return set()
    return set((await session.exec(select(id_column).where(col(id_column).in_(ids)))).all())


async def community_zones(session: AsyncSession, ids: Iterable[int]) -> dict[int, str]:
    ids = set(ids)
    if not ids:
        return {}
    query = select(Community.id, Community.timezone).where(col(Community.id).in_(ids))
    return dict((await session.exec(query)).all())


async def ids_by_key(session: AsyncSession, keys: Iterable[ActivityKey]) -> dict[ActivityKey, int]:
    keys = list(keys)
    if not keys:
        return {}
    query = (select(Activity.source, Activity.external_id, Activity.id)
             .where(tuple_(col(Activity.source), col(Activity.external_id)).in_(keys)))
    return {(source, external_id): id_ for source, external_id, id_
            in (await session.exec(query)).all()}


async def list_activities(
    session: AsyncSession,
    params: PageParams,
    *,
    member_id: int | None = None,
    community_id: int | None = None,
    kind: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    processed: bool | None = None,
    outcome: str | None = None,
) -> list[Activity]:
    query = select(Activity)
    if member_id is not None:
        query = query.where(Activity.member_id == member_id)
    if community_id is not None:
        query = query.where(Activity.community_id == community_id)
    if kind:
        query = query.where(Activity.kind == kind)
    if start:
        query = query.where(Activity.occurred_at >= start)
    if end:
        query = query.where(Activity.occurred_at < end)
    if processed:
        query = query.where(col(Activity.processed_at).is_not(None))
    elif processed is not None:
        # The queue is the index of what is pending (processed_at says the same, unindexed).
        query = query.where(col(Activity.id).in_(pending_ids()))
    if outcome:
        query = query.where(Activity.outcome == outcome)
    return list((await session.exec(
        paginate_query(query, Activity.id, params, descending=True))).all())
