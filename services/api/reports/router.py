from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from services.api.auth.permissions import Permission
from services.api.auth.principal import requires
from services.api.deps import SessionDep
from services.api.reports import service
from services.api.reports.dependencies import PeriodDep
from services.api.reports.schemas import (
    EngagementReport,
    GrowthInterval,
    GrowthReport,
    HealthReport,
    ImpactRelevanceReport,
    InfluenceReport,
)
from shared.models.base import utcnow
from shared.schemas.types import RowId

router = APIRouter(prefix="/v1/reports", tags=["reports"])
ReaderDep = requires(Permission.reports_read)

CommunityOrProgram = Annotated[RowId | None, Query(
    description="One community; without it, the whole program (each person counted once).")]
Weight = Annotated[float | None, Query(ge=0, description="Overrides the program's setting.")]
Kinds = Annotated[list[str] | None, Query(max_length=50)]


@router.get("/engagement", summary="Engagement of a community or the program in a period",
            response_model=EngagementReport)
async def get_engagement(session: SessionDep, _: ReaderDep, period: PeriodDep,
                         community_id: CommunityOrProgram = None):
    return await service.engagement(session, community_id, period)


@router.get("/impact-relevance", summary="Impact and relevance of every community",
            response_model=ImpactRelevanceReport)
async def get_impact_relevance(
    session: SessionDep, _: ReaderDep, period: PeriodDep,
    weight_conversion: Weight = None, weight_attendance: Weight = None,
    weight_content: Weight = None, weight_talks: Weight = None, weight_referrals: Weight = None,
    focus_kinds: Kinds = None, focus_topics: Kinds = None,
):
    """Weights default to the `HEARTH_IMPACT_WEIGHT_*` settings; non-negative, not all zero.
    Focus kinds default to `HEARTH_FOCUS_KINDS`, else the content kinds."""
    weights = {"conversion": weight_conversion, "attendance": weight_attendance,
               "content": weight_content, "talks": weight_talks, "referrals": weight_referrals}
    return await service.impact_relevance(session, period, weights=weights,
                                          focus_kinds=focus_kinds, focus_topics=focus_topics)


@router.get("/health", summary="A community's health score", response_model=HealthReport)
async def get_health(session: SessionDep, _: ReaderDep, community_id: RowId,
                     as_of: Annotated[date | None, Query(
                         description="Last day of the 90 days measured; default today (UTC).")]
                     = None):
    return await service.health(session, community_id, as_of or utcnow().date())


@router.get("/growth", summary="New and active members per week or month",
            response_model=GrowthReport)
async def get_growth(session: SessionDep, _: ReaderDep, period: PeriodDep,
                     community_id: CommunityOrProgram = None,
                     interval: GrowthInterval = GrowthInterval.month):
    return await service.growth(session, community_id, period, interval)


@router.get("/influence", summary="Members ranked by decayed, weighted activity",
            response_model=InfluenceReport)
async def get_influence(
    session: SessionDep, _: ReaderDep, period: PeriodDep,
    community_id: CommunityOrProgram = None,
    half_life_days: Annotated[float | None, Query(gt=0, le=3650, description=(
        "Days after which an activity counts half; default HEARTH_INFLUENCE_HALF_LIFE_DAYS."))]
    = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
):
    return await service.influence(session, community_id, period, half_life_days, limit)
