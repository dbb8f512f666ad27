"""The reports' query parameters. The reports themselves are `shared.metrics.schemas`: the
worker stores and the web draws the very same models."""

from datetime import date

from pydantic import BaseModel

from shared.metrics.schemas import (
    EngagementReport,
    GrowthInterval,
    GrowthReport,
    HealthReport,
    ImpactRelevanceReport,
    InfluenceReport,
)

__all__ = ["EngagementReport", "GrowthInterval", "GrowthReport", "HealthReport",
           "ImpactRelevanceReport", "InfluenceReport", "ReportPeriod"]

# About three years: enough for any trend staff read, and a bound on what one request computes.
MAX_PERIOD_DAYS = 1100


class ReportPeriod(BaseModel):
    """Inclusive UTC dates."""

    start: date
    end: date
