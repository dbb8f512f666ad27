from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.pagination import PageParams, paginate_query, paginate_sorted
from shared.ledger import insert_ignoring_duplicates
from shared.models import Feedback, FeedbackVote, Member


def _view() -> Select:
    """(feedback, author's name); re-read, since status and votes move by UPDATE."""
    return (select(Feedback, Member.name).join(Member, col(Member.id) == Feedback.member_id)
            .execution_options(populate_existing=True))


async def get_view(session: AsyncSession, feedback_id: int) -> tuple[Feedback, str] | None:
    return (await session.exec(_view().where(Feedback.id == feedback_id))).first()


async def list_views(
    session: AsyncSession,
    params: PageParams,
    *,
    by_votes: bool,
    kind: str | None = None,
    status: str | None = None,
    community_id: int | None = None,
    event_id: int | None = None,
    member_id: int | None = None,
) -> list[tuple[Feedback, str]]:
    query = _view()
    for column, value in ((Feedback.kind, kind), (Feedback.status, status),
                          (Feedback.community_id, community_id), (Feedback.event_id, event_id),
                          (Feedback.member_id, member_id)):
        if value is not None:
            query = query.where(column == value)
    if by_votes:
        query = paginate_sorted(query, params, sort="vote_count", column=Feedback.vote_count,
                                id_column=Feedback.id, descending=True)
    else:
        query = paginate_query(query, Feedback.id, params, descending=True)
    return list((await session.exec(query)).all())


async def move_status(
    session: AsyncSession, feedback_id: int, current: str, values: dict[str, Any], now: datetime
) -> bool:
    """Applies `values` only while the status is still `current`: of two staff moving the same
    feedback at once, the second finds it moved and changes nothing. The first response is
    kept, never overwritten."""
    moved = await session.exec(
        update(Feedback)
        .where(Feedback.id == feedback_id, Feedback.status == current)
        .values(**values, updated_at=now,
                first_response_at=func.coalesce(Feedback.first_response_at, now))
        .returning(Feedback.id))
    return moved.first() is not None


async def add_vote(session: AsyncSession, feedback_id: int, member_id: int,
                   now: datetime) -> bool:
    """Adds the member's vote unless it is there; returns whether it was added now. The count
    moves in the same transaction, by one, only for a vote that was added."""
    table = FeedbackVote.__table__
    added = (await session.exec(
        insert_ignoring_duplicates(session, table)
        .values(feedback_id=feedback_id, member_id=member_id, created_at=now)
        .returning(table.c.id))).first() is not None
    if added:
        await _count_vote(session, feedback_id, +1)
    return added


async def remove_vote(session: AsyncSession, feedback_id: int, member_id: int) -> bool:
    removed = (await session.exec(
        delete(FeedbackVote)
        .where(FeedbackVote.feedback_id == feedback_id, FeedbackVote.member_id == member_id)
        .returning(FeedbackVote.id))).first() is not None
    if removed:
        await _count_vote(session, feedback_id, -1)
    return removed


async def _count_vote(session: AsyncSession, feedback_id: int, delta: int) -> None:
    await session.exec(update(Feedback).where(Feedback.id == feedback_id)
                       .values(vote_count=Feedback.vote_count + delta))


async def vote_count(session: AsyncSession, feedback_id: int) -> int:
    return (await session.exec(select(Feedback.vote_count)
                               .where(Feedback.id == feedback_id))).one()
