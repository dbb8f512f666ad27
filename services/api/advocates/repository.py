from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.advocates.schemas import ADVOCATE_COLUMNS, TIER_COLUMNS, AdvocateStatus
from services.api.pagination import PageParams, paginate_query, paginate_sorted
from shared.db import PreparedRead
from shared.models import (
    Activity,
    Advocate,
    AdvocateAccessLink,
    Incentive,
    LedgerEntry,
    Member,
    Membership,
    Redemption,
    Reward,
    StaffUser,
    Tier,
)

# Core tables and aliases: GET /v1/me reads through this view, so it selects plain columns (no
# ORM entities to build) with statements compiled once, not per request.
_advocate, _member, _tier = Advocate.__table__, Member.__table__, Tier.__table__
_link = AdvocateAccessLink.__table__
_current_tier, _next_tier = _tier.alias("current_tier"), _tier.alias("next_tier")


def _next_tier_id():
    """The lowest tier above both the lifetime points and the tier held (a tier is never taken
    away, so a lower one is never 'next')."""
    candidate = _tier.alias("candidate")
    return (
        select(candidate.c.id)
        .where(candidate.c.min_lifetime_points > _advocate.c.lifetime_points,
               or_(_current_tier.c.id.is_(None),
                   candidate.c.min_lifetime_points > _current_tier.c.min_lifetime_points))
        .order_by(candidate.c.min_lifetime_points)
        .limit(1)
        .correlate(_advocate, _current_tier)
        .scalar_subquery()
    )


def _build_view() -> Select:
    return (
        select(*(_advocate.c[name] for name in ADVOCATE_COLUMNS),
               _member.c.name, _member.c.email,
               *(_current_tier.c[name].label(f"tier_{name}") for name in TIER_COLUMNS),
               *(_next_tier.c[name].label(f"next_tier_{name}") for name in TIER_COLUMNS))
        .select_from(
            _advocate.join(_member, _member.c.id == _advocate.c.member_id)
            .outerjoin(_current_tier, _current_tier.c.id == _advocate.c.tier_id)
            .outerjoin(_next_tier, _next_tier.c.id == _next_tier_id()))
    )


# One row per advocate with everything its read model shows (the advocate's columns, the
# member's name and email, `tier_*` and `next_tier_*`): a single indexed query, whether for one
# advocate or for a page.
ADVOCATE_VIEW = _build_view()
_VIEW_BY_ID = ADVOCATE_VIEW.where(_advocate.c.id == bindparam("advocate_id"))


async def get_view(session: AsyncSession, advocate_id: int):
    return (await session.exec(_VIEW_BY_ID, params={"advocate_id": advocate_id})).first()


async def list_views(
    session: AsyncSession,
    params: PageParams,
    *,
    sort: str,
    status: str | None = None,
    tier_id: int | None = None,
    community_id: int | None = None,
) -> list:
    query = ADVOCATE_VIEW
    if status:
        query = query.where(Advocate.status == status)
    if tier_id is not None:
        query = query.where(Advocate.tier_id == tier_id)
    if community_id is not None:
        query = query.where(exists().where(Membership.member_id == Advocate.member_id,
                                           Membership.community_id == community_id))
    if sort == "id":
        query = paginate_query(query, Advocate.id, params)
    else:
        query = paginate_sorted(query, params, sort=sort, column=getattr(Advocate, sort),
                                id_column=Advocate.id, descending=True)
    return list((await session.exec(query)).all())


async def lock(session: AsyncSession, advocate_id: int) -> Advocate | None:
    """Loads the advocate under a row lock (SELECT … FOR UPDATE on PostgreSQL; SQLite has one
    writer at a time anyway), serializing every change to this advocate until commit."""
    query = (select(Advocate).where(Advocate.id == advocate_id).with_for_update()
             .execution_options(populate_existing=True))
    return (await session.exec(query)).scalars().first()


async def get_by_member(session: AsyncSession, member_id: int) -> Advocate | None:
    return (await session.exec(select(Advocate).where(Advocate.member_id == member_id))) \
        .scalars().first()


async def taken_referral_codes(session: AsyncSession, codes: Iterable[str]) -> set[str]:
    query = select(Advocate.referral_code).where(col(Advocate.referral_code).in_(list(codes)))
    return set((await session.exec(query)).scalars().all())


def ledger_view() -> Select:
    """Ledger entries with the names of what caused them: (entry, activity kind, incentive name,
    reward id, reward name, staff name)."""
    return (
        select(LedgerEntry, Activity.kind, Incentive.name, Redemption.reward_id, Reward.name,
               StaffUser.name)
        .outerjoin(Activity, Activity.id == LedgerEntry.activity_id)
        .outerjoin(Incentive, col(Incentive.id) == LedgerEntry.incentive_id)
        .outerjoin(Redemption, col(Redemption.id) == LedgerEntry.redemption_id)
        .outerjoin(Reward, col(Reward.id) == Redemption.reward_id)
        .outerjoin(StaffUser, col(StaffUser.id) == LedgerEntry.staff_user_id)
    )


async def list_ledger(session: AsyncSession, advocate_id: int, params: PageParams) -> list:
    query = ledger_view().where(LedgerEntry.advocate_id == advocate_id)
    return list((await session.exec(paginate_query(query, LedgerEntry.id, params,
                                                   descending=True))).all())


async def get_ledger_entry(session: AsyncSession, entry_id: int):
    return (await session.exec(ledger_view().where(LedgerEntry.id == entry_id))).first()


# The advocate an access link belongs to, read in the query that checks the link: the one query
# an advocate's request needs to authenticate, and all that GET /v1/me needs.
_VIEW_BY_ACCESS_TOKEN = (
    ADVOCATE_VIEW
    .join(_link, _link.c.advocate_id == _advocate.c.id)
    .where(_link.c.token_hash == bindparam("token_hash"),
           _link.c.revoked_at.is_(None),
           _link.c.expires_at > bindparam("now"),
           _advocate.c.status != AdvocateStatus.removed)
)


async def get_view_by_access_token(session: AsyncSession, token_hash: str, now: datetime):
    """The view of the advocate an unexpired, unrevoked link belongs to, unless removed."""
    return (await session.exec(_VIEW_BY_ACCESS_TOKEN,
                               params={"token_hash": token_hash, "now": now})).first()


# GET /v1/me on PostgreSQL: the same query, run on the driver's connection.
_PREPARED_VIEW_BY_ACCESS_TOKEN = PreparedRead(_VIEW_BY_ACCESS_TOKEN)


async def read_view_by_access_token(engine: AsyncEngine, token_hash: str,
                                    now: datetime) -> dict[str, Any] | None:
    """get_view_by_access_token outside any session or transaction (shared.db.PreparedRead):
    PostgreSQL only."""
    return await _PREPARED_VIEW_BY_ACCESS_TOKEN.first(engine, token_hash=token_hash, now=now)


async def list_access_links(
    session: AsyncSession, advocate_id: int, params: PageParams
) -> list[AdvocateAccessLink]:
    query = select(AdvocateAccessLink).where(AdvocateAccessLink.advocate_id == advocate_id)
    return list((await session.exec(paginate_query(query, AdvocateAccessLink.id, params,
                                                   descending=True))).scalars().all())


async def revoke_access_links(
    session: AsyncSession, advocate_id: int, now: datetime, link_id: int | None = None
) -> int:
    """Revokes the advocate's links still unrevoked (only `link_id`, if given): one conditional
    UPDATE, so a link revoked twice keeps its first revocation time."""
    query = (update(AdvocateAccessLink)
             .where(AdvocateAccessLink.advocate_id == advocate_id,
                    col(AdvocateAccessLink.revoked_at).is_(None))
             .values(revoked_at=now))
    if link_id is not None:
        query = query.where(AdvocateAccessLink.id == link_id)
    return (await session.exec(query)).rowcount


async def access_link_exists(session: AsyncSession, advocate_id: int, link_id: int) -> bool:
    query = select(AdvocateAccessLink.id).where(AdvocateAccessLink.id == link_id,
                                                AdvocateAccessLink.advocate_id == advocate_id)
    return (await session.exec(query)).first() is not None
