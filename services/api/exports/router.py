import functools
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.routing import APIRoute

from services.api.auth.permissions import Permission
from services.api.auth.principal import requires
from services.api.deps import SessionDep
from services.api.exports import service
from services.api.exports.schemas import ActivitiesQuery, LedgerQuery, MembersQuery
from services.api.reports.router import router as reports_router

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


# Reports -------------------------------------------------------------------------------------
# Each report's export is its GET /v1/reports/<name> endpoint itself, with the CSV in place of the
# JSON: the same parameters, permission and refusals, and it cannot drift from the report.


def _as_csv(name: str, endpoint: Callable) -> Callable:
    @functools.wraps(endpoint)  # FastAPI reads the report endpoint's parameters through this
    async def export(*args, **kwargs):
        return service.export_report(name, await endpoint(*args, **kwargs))

    return export


for route in reports_router.routes:
    if isinstance(route, APIRoute) and "GET" in route.methods:
        report_name = route.path.removeprefix(reports_router.prefix).strip("/")
        router.add_api_route(
            f"/reports/{report_name}.csv", _as_csv(report_name, route.endpoint),
            methods=["GET"], name=f"export_{route.name}", response_model=None, responses=CSV,
            summary=f"Export the {report_name} report as CSV",
            description="Takes the parameters of `GET /v1/reports/" + report_name + "`. One row "
                        "per record of the report's lists (their fields under the list's name), "
                        "the report's own fields repeated on each row.")
