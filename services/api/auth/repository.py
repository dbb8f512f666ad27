from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.models import ApiKey, AuthToken, StaffUser


async def get_staff_by_email(session: AsyncSession, email: str) -> StaffUser | None:
    result = await session.exec(select(StaffUser).where(StaffUser.email == email.lower()))
    return result.first()


async def get_staff_by_token(
    session: AsyncSession, token_hash: str, now: datetime
) -> tuple[AuthToken, StaffUser] | None:
    query = (
        select(AuthToken, StaffUser)
        .join(StaffUser, col(StaffUser.id) == AuthToken.staff_user_id)
        .where(
            AuthToken.token_hash == token_hash,
            col(AuthToken.revoked_at).is_(None),
            col(AuthToken.expires_at) > now,
            col(StaffUser.is_active).is_(True),
        )
    )
    row = (await session.exec(query)).first()
    return (row[0], row[1]) if row else None


async def get_active_api_key(session: AsyncSession, key_hash: str) -> ApiKey | None:
    query = select(ApiKey).where(ApiKey.key_hash == key_hash, col(ApiKey.revoked_at).is_(None))
    return (await session.exec(query)).first()


async def get_token(session: AsyncSession, token_id: int) -> AuthToken | None:
    return await session.get(AuthToken, token_id)
