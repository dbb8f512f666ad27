"""A small hand-built world for the metrics tests: rows go straight into the database (the APIs
that write them have tests of their own), so each test states exactly what it counts."""

import itertools
from datetime import UTC, datetime, timedelta

from sqlmodel import select

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


async def october() -> dict:
    """Community A and B in October 2026. Hand counts for A: members ada, bob, cy (dee joins
    after the end); new bob, cy; active ada (3), bob (2, one sent at +09:00 on Nov 1 = Oct 31 UTC),
    dee (1); posters ada, dee; events 2 (one cancelled, one on Nov 1 left out), attendance 3;
    feedback 3, ratings 4 and 5, responses after 2 h and 10 h. Eve (banned), Tom (test) and Sam
    (staff) act everywhere and count nowhere."""
    a = await community("A")
    b = await community("B")
    ada = await member("Ada")
    bob = await member("Bob")
    cy = await member("Cy")
    dee = await member("Dee")
    eve = await member("Eve", status="banned")
    tom = await member("Tom", is_test=True)
    sam = await member("Sam", email="Sam@Example.org")
    await staff_user("sam@example.org")

    await join(ada, a, "2026-09-01T10:00:00")
    await join(ada, b, "2026-10-03T10:00:00")
    await join(bob, a, "2026-10-15T10:00:00")
    await join(cy, a, "2026-10-31T23:59:59")
    await join(dee, a, "2026-11-01T00:00:00")
    for excluded in (eve, tom, sam):
        await join(excluded, a, "2026-10-02T10:00:00")
        await activity(excluded, a, "post_created", "2026-10-05T10:00:00")
        await feedback(excluded, a, "2026-10-14T10:00:00", rating=1,
                             event_id=await event(a, "2026-09-01T18:00:00"),
                             response_after_hours=100)

    await activities(ada, a, "post_created", "2026-10-05T12:00:00", 2)
    ada_talk = await activity(ada, a, "talk_given", "2026-10-31T23:59:59")
    await activity(ada, b, "post_created", "2026-10-07T12:00:00")
    bob_attended = await activity(bob, a, "event_attended", "2026-10-20T19:00:00")
    await activity(bob, a, "mentoring_session", "2026-11-01T08:30:00+09:00")
    await activity(cy, a, "post_created", "2026-11-01T00:00:00")
    await activity(cy, a, "post_created", "2026-10-01T08:00:00+09:00")
    await activity(dee, a, "post_created", "2026-10-10T12:00:00")

    meetup = await event(a, "2026-10-10T18:00:00", attendees=[ada, bob, eve])
    await event(a, "2026-10-12T18:00:00", attendees=[ada], cancelled=True)
    await event(a, "2026-11-01T00:00:00", attendees=[ada])
    await event(a, "2026-10-31T23:00:00", attendees=[cy])

    await feedback(ada, a, "2026-10-11T09:00:00", rating=4, event_id=meetup,
                         response_after_hours=2)
    await feedback(bob, a, "2026-10-12T09:00:00", rating=5, event_id=meetup,
                         response_after_hours=10)
    await feedback(cy, a, "2026-10-13T09:00:00")
    await feedback(ada, a, "2026-11-01T09:00:00", response_after_hours=1)

    await points(ada, 100, "2026-10-10T12:00:00", activity_id=ada_talk)
    await points(bob, 30, "2026-10-21T12:00:00", activity_id=bob_attended)
    await points(ada, 50, "2026-11-02T12:00:00", activity_id=ada_talk)
    await points(dee, 40, "2026-10-15T12:00:00")
    await points(eve, 500, "2026-10-15T12:00:00")
    return {"a": a, "b": b, "ada": ada, "bob": bob, "cy": cy, "dee": dee}
