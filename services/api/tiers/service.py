from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.errors import ConflictError, NotFoundError
from services.api.pagination import PageParams, make_page
from services.api.tiers import repository
from services.api.tiers.schemas import TierCreate, TierPage, TierRead, TierUpdate
from shared.ledger import promote_tiers
from shared.models import Tier


async def get_tier(session: AsyncSession, tier_id: int) -> Tier:
    tier = await repository.get_tier(session, tier_id)
    if tier is None:
        raise NotFoundError("Tier", tier_id)
    return tier


async def list_tiers(session: AsyncSession, params: PageParams) -> TierPage:
    """Lowest threshold first: the order an advocate climbs them."""
    rows = await repository.list_tiers(session, params)
    items, cursor = make_page(rows, params, sort="min_lifetime_points")
    return TierPage(items=[TierRead.model_validate(t) for t in items], next_cursor=cursor)


async def _refuse_clash(
    session: AsyncSession, tier_id: int | None, name: str | None, min_points: int | None
) -> None:
    if name is None and min_points is None:
        return
    clash = await repository.find_clash(session, tier_id, name=name, min_points=min_points)
    if clash is None:
        return
    if clash.name == name:
        raise ConflictError(f"Tier {clash.id} is already named {name!r}.", field="name")
    raise ConflictError(f"Tier {clash.id} already starts at {min_points} lifetime points.",
                        field="min_lifetime_points")


async def _promote_reaching(session: AsyncSession, tier: Tier) -> None:
    """Advocates whose lifetime points reach a new or lowered threshold move up at once. Raising
    a threshold demotes no one: a tier, once reached, is kept."""
    await promote_tiers(session, await repository.advocates_reaching(session,
                                                                     tier.min_lifetime_points))


async def create_tier(session: AsyncSession, body: TierCreate) -> Tier:
    await _refuse_clash(session, None, body.name, body.min_lifetime_points)
    tier = Tier(**body.model_dump())
    session.add(tier)
    await session.flush()
    await _promote_reaching(session, tier)
    return tier


async def update_tier(session: AsyncSession, tier_id: int, body: TierUpdate) -> Tier:
    tier = await get_tier(session, tier_id)
    changes = body.model_dump(exclude_unset=True)
    await _refuse_clash(session, tier_id, changes.get("name"), changes.get("min_lifetime_points"))
    tier.sqlmodel_update(changes)
    session.add(tier)
    await session.flush()
    if "min_lifetime_points" in changes:
        await _promote_reaching(session, tier)
    return tier


async def delete_tier(session: AsyncSession, tier_id: int) -> None:
    tier = await get_tier(session, tier_id)
    holders = await repository.count_holders(session, tier_id)
    if holders:
        raise ConflictError(f"{holders} advocate(s) hold tier {tier_id}; it cannot be deleted "
                            "while anyone holds it.", holders=holders)
    await session.delete(tier)
