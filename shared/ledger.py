"""The one way points move. Every movement is an append-only ledger entry with a unique
idempotency key, written in the same transaction as the advocate's balance change, so
balance = sum of the ledger always holds and a retried job or request changes nothing.

The balance never goes negative: a debit is a conditional UPDATE (`balance + points >= 0`) that
the database evaluates under its row lock, and the CHECK constraint on `advocate.balance` backs it
up. Nothing here reads a balance and then writes it."""

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum

from sqlalchemy import ColumnElement, ScalarSelect, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.models import Advocate, LedgerEntry, Tier
from shared.models.base import utcnow


class EntryKind(StrEnum):
    award = "award"
    bonus = "bonus"
    adjustment = "adjustment"
    redemption = "redemption"
    refund = "refund"
    expiry = "expiry"
    forfeit = "forfeit"


# What counts toward lifetime points (and so the tier): what was earned, and adjustments, which
# correct earnings in either direction. Spending, refunds, expiry and forfeits do not.
LIFETIME_KINDS = frozenset({EntryKind.award, EntryKind.bonus, EntryKind.adjustment})


class InsufficientPointsError(Exception):
    def __init__(self, advocate_id: int, points: int):
        super().__init__(f"advocate {advocate_id} has fewer than {-points} points")
        self.advocate_id = advocate_id
        self.points = points


@dataclass(frozen=True)
class Posting:
    advocate_id: int
    kind: EntryKind
    points: int
    reason: str
    idempotency_key: str
    activity_id: int | None = None
    incentive_id: int | None = None
    incentive_version: int | None = None
    redemption_id: int | None = None
    staff_user_id: int | None = None

    @property
    def lifetime_delta(self) -> int:
        return self.points if self.kind in LIFETIME_KINDS else 0


def insert_ignoring_duplicates(session: AsyncSession, table, on: Sequence[str] | None = None):
    """INSERT … ON CONFLICT DO NOTHING for the session's dialect (PostgreSQL or SQLite): a
    duplicate of any unique key, or only of the key of columns `on`. Naming the key is cheaper:
    PostgreSQL then checks that one index before each row rather than every unique one (427,131
    awards: 12.1 s against 13.1 s, 11.2 s with no check at all)."""
    dialect = sqlite if session.bind.dialect.name == "sqlite" else postgresql
    return dialect.insert(table).on_conflict_do_nothing(index_elements=on)


async def post(session: AsyncSession, posting: Posting) -> LedgerEntry | None:
    """Writes one entry and moves the balance. Returns None when the idempotency key was already
    used (a replay: nothing changes). Raises InsufficientPointsError for a debit the balance
    cannot cover; the caller's transaction then rolls back, entry included."""
    inserted = await session.exec(
        insert_ignoring_duplicates(session, LedgerEntry.__table__)
        .values(**asdict(posting), created_at=utcnow())
        .returning(LedgerEntry.__table__.c.id)
    )
    entry_id = inserted.scalar_one_or_none()
    if entry_id is None:
        return None
    moved = await session.exec(
        update(Advocate)
        .where(Advocate.id == posting.advocate_id, Advocate.balance + posting.points >= 0)
        .values(balance=Advocate.balance + posting.points,
                lifetime_points=Advocate.lifetime_points + posting.lifetime_delta,
                updated_at=utcnow())
        .returning(Advocate.id)
    )
    if moved.scalar_one_or_none() is None:
        raise InsufficientPointsError(posting.advocate_id, posting.points)
    if posting.lifetime_delta > 0:
        await promote_tiers(session, [posting.advocate_id])
    return await session.get(LedgerEntry, entry_id)


def _higher_tier_reached(lifetime_points: ColumnElement[int]) -> ScalarSelect:
    """The highest tier that `lifetime_points` reach, if it is above the advocate's current
    tier (any tier, for an advocate with none); NULL otherwise. Never down: spending does not
    demote, and demotion (if ever enabled) happens only at a review."""
    current = Tier.__table__.alias("current_tier")
    current_floor = func.coalesce(
        select(current.c.min_lifetime_points).where(current.c.id == Advocate.tier_id)
        .correlate(Advocate)
        .scalar_subquery(), -1)
    return (select(Tier.id)
            .where(Tier.min_lifetime_points <= lifetime_points,
                   Tier.min_lifetime_points > current_floor)
            .order_by(Tier.min_lifetime_points.desc())
            .limit(1)
            .scalar_subquery())


def promoted_tier(lifetime_points: ColumnElement[int]) -> ColumnElement[int]:
    """For `UPDATE advocate SET … tier_id = promoted_tier(new lifetime points)`: the tier the
    advocate is promoted to, or the one it has. Lets a credit and its promotion be one
    statement."""
    return func.coalesce(_higher_tier_reached(lifetime_points), Advocate.tier_id)


async def promote_tiers(session: AsyncSession, advocate_ids: Iterable[int]) -> None:
    """Moves advocates up to the highest tier their lifetime points reach (see
    _higher_tier_reached)."""
    ids = list(advocate_ids)
    reached = _higher_tier_reached(Advocate.lifetime_points)
    for start in range(0, len(ids), 1000):
        await session.exec(
            update(Advocate)
            .where(Advocate.id.in_(ids[start:start + 1000]), reached.is_not(None))
            .values(tier_id=reached)
            .execution_options(synchronize_session=False)
        )
