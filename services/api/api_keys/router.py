from typing import Annotated

from fastapi import APIRouter, Depends

from services.api.api_keys import service
from services.api.api_keys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyPage, ApiKeyRead
from services.api.auth.permissions import Permission
from services.api.auth.principal import requires
from services.api.deps import SessionDep
from services.api.pagination import PageParams, page_params
from shared.schemas.types import RowId

router = APIRouter(prefix="/v1/api-keys", tags=["api-keys"])
AdminDep = requires(Permission.api_keys_admin)


@router.post("", summary="Create an API key (the secret is shown once)", status_code=201,
             response_model=ApiKeyCreated)
async def create_api_key(body: ApiKeyCreate, session: SessionDep, principal: AdminDep):
    return await service.create_api_key(session, body, principal)


@router.get("", summary="List API keys", response_model=ApiKeyPage)
async def list_api_keys(
    session: SessionDep,
    _: AdminDep,
    params: Annotated[PageParams, Depends(page_params)],
    include_revoked: bool = False,
):
    return await service.list_api_keys(session, params, include_revoked)


@router.post("/{key_id}/revoke", summary="Revoke an API key", response_model=ApiKeyRead)
async def revoke_api_key(key_id: RowId, session: SessionDep, _: AdminDep):
    return await service.revoke_api_key(session, key_id)
