from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, model_validator

from services.api.pagination import Page
from services.api.reports.schemas import MAX_PERIOD_DAYS
from shared.metrics.schemas import GrowthInterval, ImpactRelevanceWeights
from shared.models.reports import ReportKind, ReportRunStatus, ReportTrigger
from shared.rules.terms import ActivityKindKey
from shared.schemas.types import RowId, Tag

# The fields each kind takes beyond kind, community and period; any other kind refuses them.
KIND_FIELDS: dict[str, ReportKind] = {
    "interval": ReportKind.growth,
    "half_life_days": ReportKind.influence,
    "weights": ReportKind.impact_relevance,
    "focus_kinds": ReportKind.impact_relevance,
    "focus_topics": ReportKind.impact_relevance,
}
# Reports of all communities at once: they take no community.
PROGRAM_ONLY = {ReportKind.impact_relevance}
# Reports of one community: they need one.
COMMUNITY_ONLY = {ReportKind.health}

EXAMPLES = {
    "engagement": {"kind": "engagement", "community_id": 2, "start": "2026-10-01",
                   "end": "2026-10-31"},
    "health": {"kind": "health", "community_id": 2, "end": "2026-11-30"},
    "growth": {"kind": "growth", "start": "2026-01-01", "end": "2026-11-30",
               "interval": "month"},
    "influence": {"kind": "influence", "community_id": 2, "half_life_days": 30},
    "impact_relevance": {"kind": "impact_relevance", "start": "2026-10-01",
                         "end": "2026-10-31",
                         "weights": {"conversion": 2, "attendance": 1, "content": 1, "talks": 1,
                                     "referrals": 0.5}},
}


class ReportRunCreate(BaseModel):
    """A report to build and store. Left out, the period is the last `HEARTH_REPORT_EVERY_WEEKS`
    weeks up to today and the report's other settings are the program's defaults; the stored
    run records the values it was built with."""

    model_config = ConfigDict(extra="forbid",
                              json_schema_extra={"examples": list(EXAMPLES.values())})

    kind: ReportKind
    community_id: PositiveInt | None = Field(
        default=None, description="Required for health; impact_relevance takes none (it covers "
                                  "every community); otherwise none means the whole program.")
    start: date | None = Field(default=None, description="First day (UTC), inclusive.")
    end: date | None = Field(default=None, description="Last day (UTC), inclusive; a health "
                                                      "report is as of this day.")
    interval: GrowthInterval | None = Field(default=None, description="growth only.")
    half_life_days: float | None = Field(default=None, gt=0, le=3650,
                                         description="influence only.")
    weights: ImpactRelevanceWeights | None = Field(default=None,
                                                   description="impact_relevance only.")
    focus_kinds: Annotated[list[ActivityKindKey], Field(max_length=50)] | None = Field(
        default=None, description="impact_relevance only.")
    focus_topics: Annotated[list[Tag], Field(max_length=50)] | None = Field(
        default=None, description="impact_relevance only.")

    @model_validator(mode="after")
    def _consistent(self) -> "ReportRunCreate":
        for name, kind in KIND_FIELDS.items():
            if getattr(self, name) is not None and self.kind != kind:
                raise ValueError(f"{name} applies to {kind} reports only")
        if self.kind in PROGRAM_ONLY and self.community_id is not None:
            raise ValueError(f"a {self.kind} report covers every community: "
                             "leave community_id out")
        if self.kind in COMMUNITY_ONLY and self.community_id is None:
            raise ValueError(f"a {self.kind} report needs a community_id")
        if self.start is not None and self.end is not None:
            if self.end < self.start:
                raise ValueError("end must not be before start")
            # The reports' own bound: a run is what GET /v1/reports/{kind} would compute.
            if (self.end - self.start).days >= MAX_PERIOD_DAYS:
                raise ValueError(f"the period may span at most {MAX_PERIOD_DAYS} days")
        return self


class ReportRunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: ReportKind
    community_id: RowId | None
    period_start: date
    period_end: date
    parameters: dict[str, Any] = Field(description="The report's other settings, as built.")
    status: ReportRunStatus
    trigger: ReportTrigger
    job_id: RowId | None = Field(description="The job building it, with its progress "
                                           "(`GET /v1/jobs/{id}`); none for scheduled runs.")
    result: dict[str, Any] | None = Field(
        description="Once done: the report as `GET /v1/reports/{kind}` returns it.")
    requested_by_id: RowId | None = Field(description="The staff user who asked for it.")
    created_at: datetime
    finished_at: datetime | None


ReportRunPage = Page[ReportRunRead]
