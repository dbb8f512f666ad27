from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlmodel import col, select, tuple_
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.pagination import PageParams, paginate_query
from shared.ledger import insert_ignoring_duplicates
from shared.models import Activity, Community

ActivityKey = tuple[str, str]  # (source, external_id)


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


async def insert_new(session: AsyncSession, rows: list[dict[str, Any]]) -> dict[ActivityKey, int]:
    """Inserts the rows whose (source, external_id) is new; returns their ids by that key."""
    if not rows:
        return {}
    table = Activity.__table__
    inserted = await session.exec(
        insert_ignoring_duplicates(session, table)
        .returning(table.c.source, table.c.external_id, table.c.id),
        params=rows,
    )
    return {(source, external_id): id_ for source, external_id, id_ in inserted.all()}


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
    if processed is not None:
        pending = col(Activity.processed_at).is_(None)
        query = query.where(~pending if processed else pending)
    if outcome:
        query = query.where(Activity.outcome == outcome)
    return list((await session.exec(
        paginate_query(query, Activity.id, params, descending=True))).all())
