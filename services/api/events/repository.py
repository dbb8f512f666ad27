from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.pagination import PageParams, paginate_query, paginate_sorted
from shared.ledger import insert_ignoring_duplicates
from shared.models import (
    Community,
    Event,
    EventAttendance,
    EventRegistration,
    Feedback,
    Member,
    Membership,
)


@dataclass(frozen=True)
class EventCounts:
    registrations: int = 0
    attendance: int = 0
    feedback: int = 0
    mean_rating: float | None = None


async def lock(session: AsyncSession, event_id: int) -> Event | None:
    """Loads the event under a row lock (SQLite has one writer anyway): registrations for one
    event take turns, so its capacity holds under any concurrency."""
    query = (select(Event).where(Event.id == event_id).with_for_update()
             .execution_options(populate_existing=True))
    return (await session.exec(query)).first()


async def communities_of(session: AsyncSession, ids: Iterable[int]) -> dict[int, Community]:
    ids = set(ids)
    if not ids:
        return {}
    found = await session.exec(select(Community).where(col(Community.id).in_(ids)))
    return {community.id: community for community in found.all()}


async def counts_of(session: AsyncSession, event_ids: Iterable[int]) -> dict[int, EventCounts]:
    """Registrations, check-ins and event feedback of many events: three grouped queries."""
    ids = list(event_ids)
    if not ids:
        return {}
    registrations = dict((await session.exec(
        select(EventRegistration.event_id, func.count())
        .where(col(EventRegistration.event_id).in_(ids)).group_by(EventRegistration.event_id)
    )).all())
    attendance = dict((await session.exec(
        select(EventAttendance.event_id, func.count())
        .where(col(EventAttendance.event_id).in_(ids)).group_by(EventAttendance.event_id)
    )).all())
    feedback = {event_id: (count, mean) for event_id, count, mean in (await session.exec(
        select(Feedback.event_id, func.count(), func.avg(Feedback.rating))
        .where(col(Feedback.event_id).in_(ids), Feedback.kind == "event")
        .group_by(Feedback.event_id)
    )).all()}
    return {event_id: EventCounts(
        registrations=registrations.get(event_id, 0), attendance=attendance.get(event_id, 0),
        feedback=feedback.get(event_id, (0, None))[0],
        mean_rating=None if event_id not in feedback else float(feedback[event_id][1]),
    ) for event_id in ids}


async def list_events(
    session: AsyncSession,
    params: PageParams,
    *,
    sort: str,
    descending: bool = False,
    community_id: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    format: str | None = None,
    status: str | None = None,
) -> list[Event]:
    """In order of start (latest first when `descending`), then id. `params.after_key`, if any,
    is the last start already seen."""
    query = select(Event)
    if community_id is not None:
        query = query.where(Event.community_id == community_id)
    if status:
        query = query.where(Event.status == status)
    if start is not None:
        query = query.where(Event.starts_at >= start)
    if end is not None:
        query = query.where(Event.starts_at < end)
    if format:
        query = query.where(Event.format == format)
    query = paginate_sorted(query, params, sort=sort, column=Event.starts_at, id_column=Event.id,
                            descending=descending)
    return list((await session.exec(query)).all())


async def member_statuses(session: AsyncSession, member_ids: Iterable[int]) -> dict[int, str]:
    """The status of each of `member_ids` that exists."""
    ids = set(member_ids)
    if not ids:
        return {}
    return dict((await session.exec(
        select(Member.id, Member.status).where(col(Member.id).in_(ids)))).all())


async def members_by_email_key(
    session: AsyncSession, keys: Iterable[str]
) -> dict[str, tuple[int, str]]:
    """(id, status) of the members with these email keys."""
    keys = set(keys)
    if not keys:
        return {}
    rows = await session.exec(select(Member.email_key, Member.id, Member.status)
                              .where(col(Member.email_key).in_(keys)))
    return {key: (member_id, status) for key, member_id, status in rows.all()}


async def insert_members(session: AsyncSession, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Creates the members whose email key is free; returns their ids by email key."""
    if not rows:
        return {}
    table = Member.__table__
    inserted = await session.exec(
        insert_ignoring_duplicates(session, table).returning(table.c.email_key, table.c.id),
        params=rows,
    )
    return dict(inserted.all())


async def insert_attendance(session: AsyncSession, rows: list[dict[str, Any]]) -> set[int]:
    """Inserts check-ins, skipping people already checked in; returns who was checked in now."""
    if not rows:
        return set()
    table = EventAttendance.__table__
    inserted = await session.exec(
        insert_ignoring_duplicates(session, table).returning(table.c.member_id), params=rows)
    return set(inserted.scalars().all())


async def insert_memberships(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Adds the memberships that do not exist yet; existing ones stay as they are."""
    if rows:
        await session.exec(insert_ignoring_duplicates(session, Membership.__table__), params=rows)


async def attendance_count(session: AsyncSession, event_id: int) -> int:
    return (await session.exec(select(func.count()).select_from(EventAttendance)
                               .where(EventAttendance.event_id == event_id))).one()


async def get_attendance(
    session: AsyncSession, event_id: int, member_id: int
) -> tuple[EventAttendance, str] | None:
    return (await session.exec(
        _attendance_view().where(EventAttendance.event_id == event_id,
                                 EventAttendance.member_id == member_id))).first()


def _attendance_view():
    return select(EventAttendance, Member.name).join(
        Member, col(Member.id) == EventAttendance.member_id)


async def list_attendance(
    session: AsyncSession, event_id: int, params: PageParams, member_ids: list[int] | None
) -> list[tuple[EventAttendance, str]]:
    query = _attendance_view().where(EventAttendance.event_id == event_id)
    if member_ids is not None:
        query = query.where(col(EventAttendance.member_id).in_(member_ids))
    return list((await session.exec(paginate_query(query, EventAttendance.id, params))).all())


async def count_registrations(session: AsyncSession, event_id: int) -> int:
    return (await session.exec(select(func.count()).select_from(EventRegistration)
                               .where(EventRegistration.event_id == event_id))).one()


def _registration_view():
    checked_in = (select(EventAttendance.id)
                  .where(EventAttendance.event_id == EventRegistration.event_id,
                         EventAttendance.member_id == EventRegistration.member_id)
                  .exists())
    return (select(EventRegistration, Member.name, checked_in)
            .join(Member, col(Member.id) == EventRegistration.member_id))


async def get_registration(
    session: AsyncSession, event_id: int, member_id: int
) -> tuple[EventRegistration, str, bool] | None:
    return (await session.exec(
        _registration_view().where(EventRegistration.event_id == event_id,
                                   EventRegistration.member_id == member_id))).first()


async def list_registrations(
    session: AsyncSession, event_id: int, params: PageParams
) -> list[tuple[EventRegistration, str, bool]]:
    query = _registration_view().where(EventRegistration.event_id == event_id)
    return list((await session.exec(paginate_query(query, EventRegistration.id, params))).all())


async def delete_registration(session: AsyncSession, event_id: int, member_id: int) -> bool:
    deleted = await session.exec(
        delete(EventRegistration)
        .where(EventRegistration.event_id == event_id, EventRegistration.member_id == member_id)
        .returning(EventRegistration.id))
    return deleted.first() is not None
