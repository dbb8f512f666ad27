"""The queries behind the CSV exports. Each returns a statement, not rows: the export streams it
through a server-side cursor, chunk by chunk, and never holds the whole result."""

from datetime import datetime
from typing import Any

from sqlalchemy import Select, exists
from sqlmodel import col, select

from services.api.advocates.repository import ledger_view
from shared.models import Activity, LedgerEntry, Member, Membership


def members(*, community_id: int | None, status: str | None) -> Select:
    query = select(Member)
    if community_id is not None:
        query = query.where(exists().where(Membership.member_id == Member.id,
                                           Membership.community_id == community_id))
    if status is not None:
        query = query.where(Member.status == status)
    return query.order_by(col(Member.id))


def activities(
    *, community_id: int | None, start: datetime | None, end: datetime | None
) -> Select:
    query = select(Activity)
    if community_id is not None:
        query = query.where(Activity.community_id == community_id)
    return _within(query, Activity.occurred_at, start, end).order_by(col(Activity.id))


def ledger(*, advocate_id: int | None, start: datetime | None, end: datetime | None) -> Select:
    query = ledger_view()
    if advocate_id is not None:
        query = query.where(LedgerEntry.advocate_id == advocate_id)
    return _within(query, LedgerEntry.created_at, start, end).order_by(col(LedgerEntry.id))


def _within(query: Select, column: Any, start: datetime | None, end: datetime | None) -> Select:
    """Rows whose `column` is in [start, end), either bound optional."""
    if start is not None:
        query = query.where(column >= start)
    if end is not None:
        query = query.where(column < end)
    return query
