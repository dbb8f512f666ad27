"""On-demand reports: check what the request names, then compute with `shared.metrics`."""

from collections.abc import Sequence
from datetime import date

from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.errors import NotFoundError
from services.api.reports.dependencies import invalid_query
from services.api.reports.schemas import (
    EngagementReport,
    GrowthInterval,
    GrowthReport,
    HealthReport,
    ImpactRelevanceReport,
    InfluenceReport,
    ReportPeriod,
)
from shared.metrics import engagement as engagement_metrics
from shared.metrics import growth as growth_metrics
from shared.metrics import health as health_metrics
from shared.metrics import impact_relevance as impact_metrics
from shared.metrics import influence as influence_metrics
from shared.models import ActivityKind, Community
from shared.settings import get_settings


async def _require_community(session: AsyncSession, community_id: int | None) -> None:
    if community_id is not None and await session.get(Community, community_id) is None:
        raise NotFoundError("Community", community_id)


async def engagement(session: AsyncSession, community_id: int | None,
                     period: ReportPeriod) -> EngagementReport:
    await _require_community(session, community_id)
    return await engagement_metrics.engagement(session, community_id, period.start, period.end)


async def impact_relevance(
    session: AsyncSession, period: ReportPeriod, *, weights: dict[str, float | None],
    focus_kinds: Sequence[str] | None, focus_topics: Sequence[str] | None,
) -> ImpactRelevanceReport:
    settings = get_settings()
    try:
        chosen = impact_metrics.program_weights(settings, **weights)
    except ValidationError as exc:
        raise invalid_query([("weights", error["msg"]) for error in exc.errors()]) from exc
    kinds = focus_kinds if focus_kinds is not None else settings.focus_kinds
    if kinds is not None:
        await _require_kinds(session, kinds)
    return await impact_metrics.impact_relevance(
        session, period.start, period.end, chosen, focus_kinds=kinds,
        focus_topics=focus_topics if focus_topics is not None else settings.focus_topics)


async def _require_kinds(session: AsyncSession, kinds: Sequence[str]) -> None:
    known = set((await session.exec(select(ActivityKind.key)
                                    .where(col(ActivityKind.key).in_(kinds)))).scalars())
    if unknown := sorted(set(kinds) - known):
        raise invalid_query([("focus_kinds", f"unknown activity kind {kind!r}")
                              for kind in unknown])


async def health(session: AsyncSession, community_id: int, as_of: date) -> HealthReport:
    await _require_community(session, community_id)
    return await health_metrics.health(session, community_id, as_of)


async def growth(session: AsyncSession, community_id: int | None, period: ReportPeriod,
                 interval: GrowthInterval) -> GrowthReport:
    await _require_community(session, community_id)
    return await growth_metrics.growth(session, community_id, period.start, period.end,
                                       interval)


async def influence(session: AsyncSession, community_id: int | None, period: ReportPeriod,
                    half_life_days: float | None, limit: int) -> InfluenceReport:
    await _require_community(session, community_id)
    half_life = half_life_days or get_settings().influence_half_life_days
    return await influence_metrics.influence(session, community_id, period.start, period.end,
                                             half_life, limit=limit)
