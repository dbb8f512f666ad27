import asyncio
import contextlib
import itertools
import os
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from shared import ledger
from shared.db import session_scope
from shared.ledger import EntryKind, InsufficientPointsError, Posting
from shared.models import Advocate, LedgerEntry, Member, Tier

_keys = itertools.count()


async def make_advocate() -> int:
    async with session_scope() as session:
        n = next(_keys)
        member = Member(name=f"M{n}", email=f"m{n}@example.org", email_key=f"m{n}@example.org")
        session.add(member)
        await session.flush()
        advocate = Advocate(member_id=member.id, referral_code=f"CODE{n}")
        session.add(advocate)
        await session.flush()
        return advocate.id


def posting(advocate_id: int, kind: EntryKind, points: int, key: str | None = None) -> Posting:
    return Posting(advocate_id=advocate_id, kind=kind, points=points, reason="test",
                   idempotency_key=key or f"test:{next(_keys)}")


async def state(advocate_id: int) -> tuple[int, int, int, int | None]:
    async with session_scope() as session:
        advocate = await session.get(Advocate, advocate_id)
        total = (await session.exec(
            select(func.coalesce(func.sum(LedgerEntry.points), 0))
            .where(LedgerEntry.advocate_id == advocate_id))).scalar_one()
        return advocate.balance, total, advocate.lifetime_points, advocate.tier_id


async def post(p: Posting):
    async with session_scope() as session:
        return await ledger.post(session, p)


async def test_award_then_spend_then_refund():
    advocate_id = await make_advocate()
    await post(posting(advocate_id, EntryKind.award, 100))
    await post(posting(advocate_id, EntryKind.redemption, -80))
    await post(posting(advocate_id, EntryKind.refund, 80))
    assert await state(advocate_id) == (100, 100, 100, None)


async def test_replayed_key_changes_nothing():
    advocate_id = await make_advocate()
    first = await post(posting(advocate_id, EntryKind.award, 50, key="award:1:1"))
    again = await post(posting(advocate_id, EntryKind.award, 50, key="award:1:1"))
    assert first is not None and again is None
    assert await state(advocate_id) == (50, 50, 50, None)


async def test_overdraft_is_refused_and_leaves_nothing():
    advocate_id = await make_advocate()
    await post(posting(advocate_id, EntryKind.award, 30))
    with pytest.raises(InsufficientPointsError):
        await post(posting(advocate_id, EntryKind.adjustment, -31))
    assert await state(advocate_id) == (30, 30, 30, None)


async def test_promotion_is_immediate_and_spending_never_demotes():
    async with session_scope() as session:
        session.add_all([Tier(name="Bronze", min_lifetime_points=0),
                         Tier(name="Silver", min_lifetime_points=100, multiplier=Decimal("1.5")),
                         Tier(name="Gold", min_lifetime_points=500)])
    advocate_id = await make_advocate()
    await post(posting(advocate_id, EntryKind.award, 120))
    async with session_scope() as session:
        silver = (await session.exec(select(Tier.id).where(Tier.name == "Silver"))).scalar_one()
    assert (await state(advocate_id))[3] == silver
    await post(posting(advocate_id, EntryKind.redemption, -120))
    assert await state(advocate_id) == (0, 0, 120, silver)


@pytest.mark.skipif(not os.environ.get("HEARTH_TEST_DATABASE_URL"),
                    reason="row-lock concurrency is a PostgreSQL property")
async def test_concurrent_debits_never_overdraw():
    advocate_id = await make_advocate()
    await post(posting(advocate_id, EntryKind.award, 100))

    async def spend() -> bool:
        try:
            await post(posting(advocate_id, EntryKind.redemption, -30))
            return True
        except InsufficientPointsError:
            return False

    outcomes = await asyncio.gather(*(spend() for _ in range(12)))
    assert outcomes.count(True) == 3
    assert await state(advocate_id) == (10, 10, 100, None)


operations = st.lists(
    st.tuples(st.sampled_from(list(EntryKind)), st.integers(min_value=-200, max_value=200),
              st.integers(min_value=0, max_value=5)),
    max_size=25,
)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
async def test_balance_is_the_sum_of_the_ledger_and_never_negative(ops):
    advocate_id = await make_advocate()
    for kind, points, key in ops:
        # A small key space, so replays happen often; refused overdrafts are expected.
        with contextlib.suppress(InsufficientPointsError):
            await post(posting(advocate_id, kind, points, key=f"p:{advocate_id}:{key}"))
        balance, total, _, _ = await state(advocate_id)
        assert balance == total >= 0
