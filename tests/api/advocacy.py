"""Helpers for the rewards-engine API tests: members, advocates and points are set up directly
in the database (the members and activities APIs have tests of their own); everything under
test goes through the API."""

import itertools
from datetime import datetime

from sqlalchemy import func, select, update

from shared import ledger
from shared.activity_queue import insert_activities
from shared.db import session_scope
from shared.ledger import EntryKind, Posting
from shared.models import Advocate, Community, LedgerEntry, Member, Reward
from shared.models.base import utcnow

_serial = itertools.count(1)


async def make_member(name: str = "Ada Lovelace", **fields) -> int:
    n = next(_serial)
    email = f"member{n}@example.org"
    async with session_scope() as session:
        member = Member(name=name, email=email, email_key=email, **fields)
        session.add(member)
        await session.flush()
        return member.id


async def make_community(slug: str | None = None) -> int:
    slug = slug or f"community-{next(_serial)}"
    async with session_scope() as session:
        community = Community(name=slug.title(), slug=slug, kind="online")
        session.add(community)
        await session.flush()
        return community.id


async def enrol(client, headers: dict, member_id: int) -> dict:
    response = await client.post("/v1/advocates", json={"member_id": member_id}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def make_advocate(client, headers: dict, name: str = "Ada Lovelace", points: int = 0,
                        **member_fields) -> dict:
    advocate = await enrol(client, headers, await make_member(name, **member_fields))
    if points:
        await award(advocate["id"], points)
    return advocate


async def award(advocate_id: int, points: int, *, community_id: int | None = None,
                kind: EntryKind = EntryKind.award, at: datetime | None = None,
                **cause) -> int:
    """Posts points through the ledger, for an activity in `community_id` if given, naming any
    other `cause` (incentive_id, incentive_version), and back-dates the entry to `at`. Returns
    the entry's id."""
    n = next(_serial)
    async with session_scope() as session:
        activity_id = None
        if community_id is not None:
            member_id = (await session.get(Advocate, advocate_id)).member_id
            when = at or utcnow()
            [activity_id] = (await insert_activities(session, [{
                "member_id": member_id, "community_id": community_id, "kind": "talk_given",
                "occurred_at": when, "source": "test", "external_id": f"a{n}",
                "properties": {}, "local_day": when.date(), "local_week": when.date(),
                "local_month": when.date(), "received_at": utcnow()}])).values()
        entry = await ledger.post(session, Posting(
            advocate_id=advocate_id, kind=kind, points=points, reason="test points",
            idempotency_key=f"test:{n}", activity_id=activity_id, **cause))
        if at is not None:
            await session.exec(update(LedgerEntry).where(LedgerEntry.id == entry.id)
                               .values(created_at=at))
        return entry.id


async def points_state(advocate_id: int) -> dict:
    """The balance, the sum of the ledger (always equal) and lifetime points."""
    async with session_scope() as session:
        advocate = await session.get(Advocate, advocate_id)
        total = (await session.exec(
            select(func.coalesce(func.sum(LedgerEntry.points), 0))
            .where(LedgerEntry.advocate_id == advocate_id))).scalar_one()
        return {"balance": advocate.balance, "ledger": total,
                "lifetime": advocate.lifetime_points}


async def count_rows(model) -> int:
    async with session_scope() as session:
        return (await session.exec(select(func.count()).select_from(model))).scalar_one()


async def reward_stock(reward_id: int) -> int | None:
    async with session_scope() as session:
        return (await session.get(Reward, reward_id)).stock


async def make_reward(client, headers: dict, **fields) -> dict:
    body = {"name": "T-shirt", "cost_points": 100, **fields}
    response = await client.post("/v1/rewards", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def access_headers(client, headers: dict, advocate_id: int) -> dict:
    response = await client.post(f"/v1/advocates/{advocate_id}/access-link", headers=headers)
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}
