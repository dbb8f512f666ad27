from typing import Annotated

from fastapi import APIRouter, Query

from services.api.auth.permissions import Permission
from services.api.auth.principal import requires
from services.api.deps import SessionDep
from services.api.leaderboard import service
from services.api.leaderboard.schemas import Leaderboard, LeaderboardPeriod
from shared.schemas.types import RowId

router = APIRouter(prefix="/v1/leaderboard", tags=["leaderboard"])
ReaderDep = requires(Permission.advocates_read)


@router.get("", summary="Advocates ranked by points earned in a period",
            response_model=Leaderboard)
async def get_leaderboard(
    session: SessionDep,
    _: ReaderDep,
    period: LeaderboardPeriod = LeaderboardPeriod.month,
    community_id: Annotated[RowId | None, Query(
        description="Count only points for activities in this community.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
):
    """Periods are calendar periods in UTC (the current week from Monday, month, quarter,
    year) or `all`. Only active advocates whose member is not banned are ranked."""
    return await service.leaderboard(session, period, community_id, limit)
