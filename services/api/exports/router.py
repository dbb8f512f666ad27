from typing import Annotated

from fastapi import APIRouter, Query

from services.api.auth.permissions import Permission
from services.api.auth.principal import requires
from services.api.deps import SessionDep
from services.api.exports import service
from services.api.exports.schemas import ActivitiesQuery, LedgerQuery, MembersQuery

router = APIRouter(prefix="/v1/exports", tags=["exports"])

CSV = {200: {"content": {"text/csv": {}}, "description": "A CSV file with a header row."}}


@router.get("/members.csv", summary="Export members as CSV", responses=CSV,
            description="Erased members appear anonymised.")
async def export_members(
    query: Annotated[MembersQuery, Query()], _: requires(Permission.members_read)
):
    return service.export_members(query)


@router.get("/activities.csv", summary="Export activities as CSV", responses=CSV)
async def export_activities(
    query: Annotated[ActivitiesQuery, Query()], _: requires(Permission.activities_read)
):
    return service.export_activities(query)


@router.get("/ledger.csv", summary="Export the points ledger as CSV", responses=CSV)
async def export_ledger(
    query: Annotated[LedgerQuery, Query()], session: SessionDep,
    _: requires(Permission.advocates_read),
):
    return await service.export_ledger(session, query)
