from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, File, Query, Response, UploadFile

from services.api.auth.permissions import Permission
from services.api.auth.principal import requires
from services.api.deps import SessionDep
from services.api.members import service
from services.api.members.schemas import (
    ImportAccepted,
    MemberCreate,
    MemberPage,
    MemberRead,
    MembershipCreate,
    MembershipPage,
    MembershipRead,
    MembershipUpdate,
    MemberUpdate,
)
from services.api.pagination import PageParams, page_params
from shared.jobs import enqueue_job_row
from shared.models.enums import JobKind, MemberStatus
from shared.schemas.types import CountryCode, RowId

router = APIRouter(prefix="/v1/members", tags=["members"])
ReaderDep = requires(Permission.members_read)
WriterDep = requires(Permission.members_write)
EraserDep = requires(Permission.members_erase)
PageDep = Annotated[PageParams, Depends(page_params)]

CSV_HELP = (
    f"A UTF-8 CSV file (at most {service.MAX_IMPORT_BYTES // 2**20} MB). Columns: `name`, "
    "`email` (required), `handle`, `country`, `timezone`, `interests` (separated by `;`), "
    "`community` (a community slug: the member joins it), `role`, `joined_at`."
)


@router.post("", summary="Create a member", status_code=201, response_model=MemberRead)
async def create_member(body: MemberCreate, session: SessionDep, _: WriterDep):
    return await service.create_member(session, body)


@router.get("", summary="List members", response_model=MemberPage)
async def list_members(
    session: SessionDep,
    _: ReaderDep,
    params: PageDep,
    status: MemberStatus | None = None,
    country: CountryCode | None = None,
    community_id: Annotated[RowId | None, Query(description="Members of this community.")] = None,
    is_test: bool | None = None,
    q: Annotated[str | None, Query(max_length=100, description="In name, email, handle.")] = None,
):
    return await service.list_members(session, params, status=status, country=country,
                                      community_id=community_id, is_test=is_test, search=q)


@router.post("/import", summary="Import members from a CSV file (runs as a job)",
             status_code=202, response_model=ImportAccepted)
async def import_members(
    file: Annotated[UploadFile, File(description=CSV_HELP)],
    session: SessionDep,
    principal: WriterDep,
    background: BackgroundTasks,
    response: Response,
):
    accepted = await service.start_import(session, file, principal)
    # A background task runs after the request's transaction has committed: the worker always
    # finds the job row. If Redis is down the job stays queued for the worker's sweep.
    background.add_task(enqueue_job_row, JobKind.member_import, accepted.job_id)
    response.headers["Location"] = accepted.url
    return accepted


@router.get("/{member_id}", summary="Get a member", response_model=MemberRead)
async def get_member(member_id: RowId, session: SessionDep, _: ReaderDep):
    return await service.read_member(session, member_id)


@router.patch("/{member_id}", summary="Update a member", response_model=MemberRead)
async def update_member(member_id: RowId, body: MemberUpdate, session: SessionDep, _: WriterDep):
    return await service.update_member(session, member_id, body)


@router.post("/{member_id}/erase", summary="Erase a member's personal data (irreversible)",
             response_model=MemberRead)
async def erase_member(member_id: RowId, session: SessionDep, _: EraserDep):
    """Name, email, handle, country, time zone, interests and identities are removed; the member's
    id, memberships and history stay so that counts and ledgers remain consistent."""
    return await service.erase_member(session, member_id)


@router.get("/{member_id}/memberships", summary="List a member's memberships",
            response_model=MembershipPage)
async def list_memberships(member_id: RowId, session: SessionDep, _: ReaderDep, params: PageDep):
    return await service.list_memberships(session, member_id, params)


@router.post("/{member_id}/memberships", summary="Add a member to a community", status_code=201,
             response_model=MembershipRead)
async def create_membership(
    member_id: RowId, body: MembershipCreate, session: SessionDep, _: WriterDep
):
    return await service.create_membership(session, member_id, body)


@router.patch("/{member_id}/memberships/{membership_id}", summary="Change a membership",
              response_model=MembershipRead)
async def update_membership(
    member_id: RowId, membership_id: RowId, body: MembershipUpdate, session: SessionDep,
    _: WriterDep,
):
    return await service.update_membership(session, member_id, membership_id, body)


@router.delete("/{member_id}/memberships/{membership_id}", summary="Remove a membership",
               status_code=204)
async def delete_membership(
    member_id: RowId, membership_id: RowId, session: SessionDep, _: WriterDep
) -> None:
    await service.delete_membership(session, member_id, membership_id)
