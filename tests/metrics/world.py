"""A small hand-built world for the metrics tests: rows go straight into the database (the APIs
that write them have tests of their own), so each test states exactly what it counts."""

import itertools
from datetime import UTC, datetime, timedelta

from shared import ledger
from shared.db import session_scope
from shared.ledger import EntryKind, Posting
from shared.models import (
    Activity,
    Advocate,
    Community,
    Event,
    EventAttendance,
    Feedback,
    LedgerEntry,
    Member,
    Membership,
    StaffUser,
)
from shared.rules.calendar import local_buckets

_serial = itertools.count(1)


def at(text: str) -> datetime:
    """An aware time from ISO 8601; a bare date or time without offset is UTC."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def _add(row):
    async with session_scope() as session:
        session.add(row)
        await session.flush()
        return row.id


async def community(name: str = "", *, code_of_conduct_url: str | None = None,
                    tags: list[str] | None = None) -> int:
    n = next(_serial)
    return await _add(Community(name=name or f"Community {n}", slug=f"community-{n}",
                                kind="offline", code_of_conduct_url=code_of_conduct_url,
                                tags=tags or []))


async def member(name: str = "", *, email: str | None = None, **fields) -> int:
    n = next(_serial)
    email = email or f"member{n}@example.org"
    return await _add(Member(name=name or f"Member {n}", email=email, email_key=email.lower(),
                             **fields))


async def staff_user(email: str) -> int:
    return await _add(StaffUser(email=email.lower(), name="Staff", role="manager",
                                password_hash="x"))


async def join(member_id: int, community_id: int, joined_at: str, role: str = "member") -> int:
    return await _add(Membership(member_id=member_id, community_id=community_id, role=role,
                                 joined_at=at(joined_at)))


async def activity(member_id: int, community_id: int | None, kind: str, occurred_at: str,
                   **properties) -> int:
    when = at(occurred_at)
    day, week, month = local_buckets(when)
    return await _add(Activity(member_id=member_id, community_id=community_id, kind=kind,
                               occurred_at=when, source="test", external_id=f"a{next(_serial)}",
                               properties=properties, local_day=day, local_week=week,
                               local_month=month))


async def activities(member_id: int, community_id: int | None, kind: str, occurred_at: str,
                     count: int) -> None:
    for _ in range(count):
        await activity(member_id, community_id, kind, occurred_at)


async def event(community_id: int, starts_at: str, *, attendees: list[int] = (),
                cancelled: bool = False) -> int:
    starts = at(starts_at)
    event_id = await _add(Event(
        community_id=community_id, title="Meetup", starts_at=starts,
        ends_at=starts + timedelta(hours=2), format="in_person",
        status="cancelled" if cancelled else "scheduled",
        cancelled_at=starts if cancelled else None))
    for member_id in attendees:
        await _add(EventAttendance(event_id=event_id, member_id=member_id, method="single"))
    return event_id


async def feedback(member_id: int, community_id: int | None, created_at: str, *,
                   rating: int | None = None, event_id: int | None = None,
                   response_after_hours: float | None = None) -> int:
    created = at(created_at)
    responded = (created + timedelta(hours=response_after_hours)
                 if response_after_hours is not None else None)
    return await _add(Feedback(
        kind="event" if rating is not None else "idea", title="Feedback", rating=rating,
        member_id=member_id, community_id=community_id, event_id=event_id,
        created_at=created, first_response_at=responded))


async def points(member_id: int, amount: int, created_at: str, *,
                 activity_id: int | None = None) -> None:
    """Awards `amount` points to the member (enrolled as an advocate on first use), dated
    `created_at`, for `activity_id` if given."""
    async with session_scope() as session:
        from sqlmodel import select

        advocate = (await session.exec(select(Advocate).where(Advocate.member_id == member_id))
                    ).first()
        if advocate is None:
            advocate = Advocate(member_id=member_id, referral_code=f"REF{next(_serial)}")
            session.add(advocate)
            await session.flush()
        entry = await ledger.post(session, Posting(
            advocate_id=advocate.id, kind=EntryKind.award, points=amount, reason="test",
            idempotency_key=f"test:{next(_serial)}", activity_id=activity_id))
        row = await session.get(LedgerEntry, entry.id)
        row.created_at = at(created_at)
        session.add(row)
