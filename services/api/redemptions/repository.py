from collections.abc import Iterable

from sqlalchemy import Select, func, select, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.pagination import PageParams, paginate_query
from services.api.redemptions.schemas import PENDING, UNDONE
from shared.models import Advocate, Member, Redemption, Reward


def redemption_view() -> Select:
    """(redemption, advocate's name, reward's name); re-read, since status moves by UPDATE."""
    return (
        select(Redemption, Member.name, Reward.name)
        .join(Reward, col(Reward.id) == Redemption.reward_id)
        .join(Advocate, col(Advocate.id) == Redemption.advocate_id)
        .join(Member, col(Member.id) == Advocate.member_id)
        .execution_options(populate_existing=True)
    )


async def get_view(session: AsyncSession, redemption_id: int, advocate_id: int | None = None):
    query = redemption_view().where(Redemption.id == redemption_id)
    if advocate_id is not None:
        query = query.where(Redemption.advocate_id == advocate_id)
    return (await session.exec(query)).first()


async def list_views(
    session: AsyncSession,
    params: PageParams,
    *,
    newest_first: bool = False,
    status: str | None = None,
    advocate_id: int | None = None,
    reward_id: int | None = None,
) -> list:
    query = redemption_view()
    if status:
        query = query.where(Redemption.status == status)
    if advocate_id is not None:
        query = query.where(Redemption.advocate_id == advocate_id)
    if reward_id is not None:
        query = query.where(Redemption.reward_id == reward_id)
    query = paginate_query(query, Redemption.id, params, descending=newest_first)
    return list((await session.exec(query)).all())


async def lock_member_of(session: AsyncSession, advocate_id: int) -> Member | None:
    """The advocate's member under a shared row lock (FOR SHARE on PostgreSQL): a ban, which
    locks the member for update, either waits for this redemption to commit (and then cancels
    it) or has committed first (and this request sees the member banned). Taken before the
    advocate's lock, in the order a ban takes them (member, then the advocate's balance), so the
    two never deadlock."""
    query = (select(Member).join(Advocate, col(Advocate.member_id) == Member.id)
             .where(Advocate.id == advocate_id).with_for_update(read=True, of=Member)
             .execution_options(populate_existing=True))
    return (await session.exec(query)).scalars().first()


async def pending_ids(session: AsyncSession, member_id: int) -> list[int]:
    """The member's advocate's redemptions that still hold their points and were not handed over
    (requested or approved), oldest first."""
    query = (select(Redemption.id)
             .join(Advocate, col(Advocate.id) == Redemption.advocate_id)
             .where(Advocate.member_id == member_id, col(Redemption.status).in_(list(PENDING)))
             .order_by(Redemption.id))
    return list((await session.exec(query)).scalars().all())


async def count_held(session: AsyncSession, advocate_id: int, reward_id: int) -> int:
    """The advocate's redemptions of this reward that still hold their points."""
    query = (select(func.count()).select_from(Redemption)
             .where(Redemption.advocate_id == advocate_id, Redemption.reward_id == reward_id,
                    col(Redemption.status).not_in(list(UNDONE))))
    return (await session.exec(query)).scalar_one()


async def move(
    session: AsyncSession,
    redemption_id: int,
    allowed: Iterable[str],
    target: str,
    *,
    advocate_id: int | None = None,
    **values,
) -> bool:
    """Moves the status only from an allowed one, in one conditional UPDATE: of two concurrent
    actions on one redemption (reject and cancel), the second finds the status changed and
    moves nothing."""
    query = (update(Redemption)
             .where(Redemption.id == redemption_id, col(Redemption.status).in_(list(allowed)))
             .values(status=target, **values)
             .returning(Redemption.id))
    if advocate_id is not None:
        query = query.where(Redemption.advocate_id == advocate_id)
    return (await session.exec(query)).scalar_one_or_none() is not None
