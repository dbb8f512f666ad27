from collections.abc import Iterable

from sqlalchemy import delete, exists, func, or_
from sqlmodel import col, select, tuple_
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.pagination import PageParams, paginate_query
from shared.models import Community, Member, MemberIdentity, Membership


async def get_by_email_key(session: AsyncSession, email_key: str) -> Member | None:
    return (await session.exec(select(Member).where(Member.email_key == email_key))).first()


async def identities_of(
    session: AsyncSession, member_ids: Iterable[int]
) -> dict[int, list[MemberIdentity]]:
    """The identities of many members in one query (a page never loads them row by row)."""
    found: dict[int, list[MemberIdentity]] = {member_id: [] for member_id in member_ids}
    if found:
        query = (select(MemberIdentity).where(col(MemberIdentity.member_id).in_(found))
                 .order_by(col(MemberIdentity.id)))
        for identity in (await session.exec(query)).all():
            found[identity.member_id].append(identity)
    return found


async def identities_taken_by_others(
    session: AsyncSession, pairs: list[tuple[str, str]], member_id: int | None
) -> list[MemberIdentity]:
    if not pairs:
        return []
    query = select(MemberIdentity).where(
        tuple_(col(MemberIdentity.provider), col(MemberIdentity.external_id)).in_(pairs)
    )
    if member_id is not None:
        query = query.where(MemberIdentity.member_id != member_id)
    return list((await session.exec(query)).all())


async def delete_identities(session: AsyncSession, member_id: int) -> None:
    await session.exec(delete(MemberIdentity).where(col(MemberIdentity.member_id) == member_id))


async def list_members(
    session: AsyncSession,
    params: PageParams,
    *,
    status: str | None = None,
    country: str | None = None,
    community_id: int | None = None,
    is_test: bool | None = None,
    search: str | None = None,
) -> list[Member]:
    query = select(Member)
    if status:
        query = query.where(Member.status == status)
    if country:
        query = query.where(Member.country == country)
    if community_id is not None:
        query = query.where(exists().where(Membership.member_id == Member.id,
                                           Membership.community_id == community_id))
    if is_test is not None:
        query = query.where(Member.is_test == is_test)
    if search:
        # Case-insensitive substring, alike on SQLite and PostgreSQL; % and _ match themselves.
        term = search.lower()
        query = query.where(or_(
            func.lower(Member.name).contains(term, autoescape=True),
            col(Member.email_key).contains(term, autoescape=True),
            func.lower(Member.handle).contains(term, autoescape=True),
        ))
    return list((await session.exec(paginate_query(query, Member.id, params))).all())


def _membership_with_community_name():
    return select(Membership, Community.name).join(
        Community, col(Community.id) == col(Membership.community_id)
    )


async def list_memberships(
    session: AsyncSession, member_id: int, params: PageParams
) -> list[tuple[Membership, str]]:
    query = _membership_with_community_name().where(Membership.member_id == member_id)
    return list((await session.exec(paginate_query(query, Membership.id, params))).all())


async def get_membership(
    session: AsyncSession, member_id: int, membership_id: int
) -> tuple[Membership, str] | None:
    query = _membership_with_community_name().where(
        Membership.id == membership_id, Membership.member_id == member_id
    )
    return (await session.exec(query)).first()


async def membership_exists(session: AsyncSession, member_id: int, community_id: int) -> bool:
    query = select(Membership.id).where(
        Membership.member_id == member_id, Membership.community_id == community_id
    )
    return (await session.exec(query)).first() is not None
