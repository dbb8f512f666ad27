"""Redemptions reserve points at request (a ledger debit) and give them back on reject or
cancel (a refund). Everything a request changes — stock, the debit, the redemption — happens in
the request's one transaction, so a refusal at any step leaves nothing behind."""

from collections.abc import Iterable

from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.advocates import repository as advocates_repository
from services.api.advocates.problems import insufficient_points, unknown_reference
from services.api.advocates.schemas import AdvocateStatus
from services.api.auth.principal import Principal
from services.api.errors import ConflictError, NotFoundError, ProblemError
from services.api.pagination import PageParams, make_page
from services.api.redemptions import repository
from services.api.redemptions.schemas import (
    PENDING,
    RedemptionPage,
    RedemptionRead,
    RedemptionReject,
    RedemptionStatus,
)
from services.api.rewards import repository as rewards_repository
from shared import ledger
from shared.ledger import EntryKind, InsufficientPointsError, Posting
from shared.models import Redemption, Reward
from shared.models.base import utcnow
from shared.models.enums import MemberStatus


def _read(row) -> RedemptionRead:
    redemption, advocate_name, reward_name = row
    return RedemptionRead(**redemption.model_dump(), advocate_name=advocate_name,
                          reward_name=reward_name)


async def read_redemption(
    session: AsyncSession, redemption_id: int, advocate_id: int | None = None
) -> RedemptionRead:
    """With `advocate_id`, another advocate's redemption does not exist (404)."""
    row = await repository.get_view(session, redemption_id, advocate_id)
    if row is None:
        raise NotFoundError("Redemption", redemption_id)
    return _read(row)


async def list_redemptions(
    session: AsyncSession, params: PageParams, *, newest_first: bool = False, **filters
) -> RedemptionPage:
    rows = await repository.list_views(session, params, newest_first=newest_first, **filters)
    items, cursor = make_page([_read(row) for row in rows], params)
    return RedemptionPage(items=items, next_cursor=cursor)


async def _redeemable_reward(session: AsyncSession, reward_id: int) -> Reward:
    reward = await session.get(Reward, reward_id)
    if reward is None:
        raise unknown_reference("reward_id", "reward", reward_id)
    if not reward.active:
        raise ProblemError(409, f"Reward {reward_id} is not offered any more.",
                           type_="reward-inactive")
    return reward


async def request_redemption(
    session: AsyncSession, advocate_id: int, reward_id: int, principal: Principal
) -> RedemptionRead:
    member = await repository.lock_member_of(session, advocate_id)
    # The advocate's row lock serializes their redemptions, so the per-member count below cannot
    # be outrun by a concurrent request of the same advocate.
    advocate = await advocates_repository.lock(session, advocate_id)
    if member is None or advocate is None:
        raise unknown_reference("advocate_id", "advocate", advocate_id)
    if advocate.status != AdvocateStatus.active:
        raise ProblemError(409, f"Advocate {advocate_id} is {advocate.status}; only active "
                                "advocates redeem rewards.", type_="advocate-not-active",
                           current_status=advocate.status)
    # A ban does not touch the advocate's status (lifting it restores the member as they were),
    # so the member's standing is checked here on its own.
    if member.status == MemberStatus.banned:
        raise ProblemError(409, f"Advocate {advocate_id}'s member is banned; a banned member "
                                "redeems nothing.", type_="member-banned")
    reward = await _redeemable_reward(session, reward_id)
    limit = reward.per_member_limit
    if limit is not None and await repository.count_held(session, advocate_id, reward_id) >= limit:
        raise ProblemError(409, f"Advocate {advocate_id} already holds the {limit} redemption(s) "
                                f"of reward {reward_id} one advocate may have.",
                           type_="limit-reached", limit=limit)
    auto_approved = not reward.requires_approval
    redemption = Redemption(
        advocate_id=advocate_id, reward_id=reward_id, cost_points=reward.cost_points,
        status=RedemptionStatus.approved if auto_approved else RedemptionStatus.requested,
        decided_at=utcnow() if auto_approved else None,
    )
    session.add(redemption)
    await session.flush()
    try:
        await ledger.post(session, Posting(
            advocate_id=advocate_id, kind=EntryKind.redemption, points=-reward.cost_points,
            reason=f"Redeemed {reward.name}", idempotency_key=f"redemption:{redemption.id}",
            redemption_id=redemption.id, staff_user_id=principal.staff_user_id))
    except InsufficientPointsError as exc:
        raise insufficient_points(exc) from exc
    # Stock last: the reward's row stays locked only by requests that could pay.
    if not await rewards_repository.take_one(session, reward_id):
        raise ProblemError(409, f"Reward {reward_id} is out of stock.", type_="out-of-stock")
    return await read_redemption(session, redemption.id)


async def _move(
    session: AsyncSession,
    redemption_id: int,
    allowed: Iterable[RedemptionStatus],
    target: RedemptionStatus,
    *,
    advocate_id: int | None = None,
    **values,
) -> RedemptionRead:
    if not await repository.move(session, redemption_id, allowed, target,
                                 advocate_id=advocate_id, **values):
        current = await read_redemption(session, redemption_id, advocate_id)
        raise ConflictError(f"Redemption {redemption_id} is {current.status}; "
                            f"it cannot be {target}.", current_status=current.status)
    return await read_redemption(session, redemption_id)


async def _refund(session: AsyncSession, redemption: RedemptionRead) -> None:
    """Returns the points and the item. The refund's key makes it happen once per redemption,
    whatever races or retries occur."""
    entry = await ledger.post(session, Posting(
        advocate_id=redemption.advocate_id, kind=EntryKind.refund, points=redemption.cost_points,
        reason=f"Refund: redemption of {redemption.reward_name} {redemption.status}",
        idempotency_key=f"refund:{redemption.id}", redemption_id=redemption.id))
    if entry is not None:
        await rewards_repository.put_one_back(session, redemption.reward_id)


async def approve(
    session: AsyncSession, redemption_id: int, principal: Principal
) -> RedemptionRead:
    return await _move(session, redemption_id, {RedemptionStatus.requested},
                       RedemptionStatus.approved, decided_at=utcnow(),
                       decided_by_id=principal.staff_user_id)


async def reject(
    session: AsyncSession, redemption_id: int, body: RedemptionReject, principal: Principal
) -> RedemptionRead:
    redemption = await _move(session, redemption_id, {RedemptionStatus.requested},
                             RedemptionStatus.rejected, reason=body.reason, decided_at=utcnow(),
                             decided_by_id=principal.staff_user_id)
    await _refund(session, redemption)
    return redemption


async def fulfil(session: AsyncSession, redemption_id: int) -> RedemptionRead:
    return await _move(session, redemption_id, {RedemptionStatus.approved},
                       RedemptionStatus.fulfilled, fulfilled_at=utcnow())


async def cancel(
    session: AsyncSession, redemption_id: int, principal: Principal
) -> RedemptionRead:
    """Staff cancel anything not yet fulfilled; an advocate only their own, while requested."""
    if principal.advocate_id is not None:
        redemption = await _move(session, redemption_id, {RedemptionStatus.requested},
                                 RedemptionStatus.cancelled, advocate_id=principal.advocate_id,
                                 decided_at=utcnow())
    else:
        redemption = await _move(session, redemption_id, PENDING, RedemptionStatus.cancelled,
                                 decided_at=utcnow(), decided_by_id=principal.staff_user_id)
    await _refund(session, redemption)
    return redemption


async def cancel_pending(session: AsyncSession, member_id: int, principal: Principal) -> int:
    """Cancels, with refunds, every redemption of the member's advocate not yet handed over
    (what a ban and an advocate's removal do); a fulfilled one stays as it is. Returns how many
    were cancelled. Each goes through `cancel`, so its refund happens once whatever retries."""
    ids = await repository.pending_ids(session, member_id)
    for redemption_id in ids:
        await cancel(session, redemption_id, principal)
    return len(ids)
