from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.api.auth.permissions import Permission
from services.api.auth.principal import requires
from services.api.deps import SessionDep
from services.api.pagination import PageParams, page_params
from services.api.staff import service
from services.api.staff.schemas import StaffCreate, StaffPage, StaffRead, StaffUpdate
from shared.models.enums import StaffRole
from shared.schemas.types import RowId

router = APIRouter(prefix="/v1/staff", tags=["staff"])
AdminDep = requires(Permission.staff_admin)


@router.post("", summary="Create a staff user", status_code=201, response_model=StaffRead)
async def create_staff(body: StaffCreate, session: SessionDep, _: AdminDep):
    return await service.create_staff(session, body)


@router.get("", summary="List staff users", response_model=StaffPage)
async def list_staff(
    session: SessionDep,
    _: AdminDep,
    params: Annotated[PageParams, Depends(page_params)],
    role: StaffRole | None = None,
    active: Annotated[bool | None, Query(description="Only active (true) or inactive.")] = None,
):
    return await service.list_staff(session, params, role, active)


@router.get("/{staff_id}", summary="Get a staff user", response_model=StaffRead)
async def get_staff(staff_id: RowId, session: SessionDep, _: AdminDep):
    return await service.get_staff(session, staff_id)


@router.patch("/{staff_id}", summary="Rename or change a staff user's role",
              response_model=StaffRead)
async def update_staff(staff_id: RowId, body: StaffUpdate, session: SessionDep, _: AdminDep):
    return await service.update_staff(session, staff_id, body)


@router.post("/{staff_id}/deactivate", summary="Deactivate a staff user",
             response_model=StaffRead)
async def deactivate_staff(staff_id: RowId, session: SessionDep, _: AdminDep):
    return await service.deactivate_staff(session, staff_id)
