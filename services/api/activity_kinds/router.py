from typing import Annotated

from fastapi import APIRouter, Depends

from services.api.activity_kinds import service
from services.api.activity_kinds.schemas import (
    ActivityKindCreate,
    ActivityKindPage,
    ActivityKindRead,
)
from services.api.auth.permissions import Permission
from services.api.auth.principal import requires
from services.api.deps import SessionDep
from services.api.pagination import PageParams, page_params

router = APIRouter(prefix="/v1/activity-kinds", tags=["activity-kinds"])
ReaderDep = requires(Permission.activities_read)
# Adding a kind extends what incentives can reward, so it takes the incentive designers' right
# (admins and managers), not the right to record activities that integrations' keys carry.
WriterDep = requires(Permission.incentives_write)


@router.get("", summary="List activity kinds", response_model=ActivityKindPage)
async def list_kinds(
    session: SessionDep, _: ReaderDep, params: Annotated[PageParams, Depends(page_params)]
):
    return await service.list_kinds(session, params)


@router.post("", summary="Add an activity kind", status_code=201, response_model=ActivityKindRead)
async def create_kind(body: ActivityKindCreate, session: SessionDep, _: WriterDep):
    return await service.create_kind(session, body)
