from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.api_keys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyPage, ApiKeyRead
from services.api.auth.principal import Principal
from services.api.auth.security import digest, new_token
from services.api.errors import NotFoundError
from services.api.pagination import PageParams, make_page, paginate_query
from shared.models import ApiKey
from shared.models.base import utcnow


async def create_api_key(
    session: AsyncSession, body: ApiKeyCreate, principal: Principal
) -> ApiKeyCreated:
    key = new_token("hk")
    api_key = ApiKey(name=body.name, prefix=key[:10], key_hash=digest(key), scopes=body.scopes,
                     created_by_id=principal.staff_user_id)
    session.add(api_key)
    await session.flush()
    return ApiKeyCreated(**ApiKeyRead.model_validate(api_key).model_dump(), key=key)


async def list_api_keys(
    session: AsyncSession, params: PageParams, include_revoked: bool
) -> ApiKeyPage:
    query = select(ApiKey)
    if not include_revoked:
        query = query.where(col(ApiKey.revoked_at).is_(None))
    rows = (await session.exec(paginate_query(query, ApiKey.id, params))).all()
    items, cursor = make_page(rows, params)
    return ApiKeyPage(items=[ApiKeyRead.model_validate(k) for k in items], next_cursor=cursor)


async def revoke_api_key(session: AsyncSession, key_id: int) -> ApiKey:
    api_key = await session.get(ApiKey, key_id)
    if api_key is None:
        raise NotFoundError("API key", key_id)
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
        session.add(api_key)
    return api_key
