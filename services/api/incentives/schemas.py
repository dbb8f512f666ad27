from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationInfo, field_validator

from services.api.members.schemas import UtcDatetime
from services.api.pagination import Page
from shared.rules.terms import ActivityKindKey, Cap, IncentiveKind, IncentiveStatus
from shared.schemas.types import RowId

# The request bodies of DESIGN.md section 3, one per kind.
EXAMPLES = {
    "points_rule": {"name": "Talks", "kind": "points_rule", "activity_kind": "talk_given",
                    "points": 100, "cap": {"max": 2, "per": "day"}, "community_ids": None,
                    "starts_at": None, "ends_at": None, "status": "active"},
    "milestone": {"name": "Prolific writer", "kind": "milestone",
                  "activity_kind": "content_published", "count": 3, "points": 250},
    "first_n": {"name": "Beta pioneers", "kind": "first_n", "activity_kind": "beta_feedback",
                "n": 2, "points": 500},
    "referral": {"name": "Bring a friend", "kind": "referral", "activity_kind": "event_attended",
                 "points": 50},
}

CommunityIds = Annotated[list[PositiveInt], Field(
    min_length=1, max_length=500, description="Only activities in these communities count.")]
TierIds = Annotated[list[PositiveInt], Field(
    min_length=1, max_length=50, description="Only advocates in these tiers earn.")]
PropertyName = Annotated[str, Field(min_length=1, max_length=100)]
PropertyMatch = Annotated[
    dict[PropertyName, Annotated[str, Field(max_length=200)]],
    Field(max_length=20, description="Only activities whose `properties` have these values "
                                     "(strings, compared exactly) count."),
]
Points = Annotated[int, Field(gt=0, le=1_000_000)]
Count = Annotated[int, Field(ge=1, le=100_000, description="The Nth activity of the kind.")]
FirstN = Annotated[int, Field(ge=1, le=1_000_000, description="How many advocates are paid.")]


def _later_than(earlier: str):
    """A field validator: the value, when given, comes after the field `earlier`."""

    def check(value: datetime | None, info: ValidationInfo) -> datetime | None:
        before = info.data.get(earlier)
        if value is not None and before is not None and value <= before:
            raise ValueError(f"must be after {earlier}")
        return value

    return check


class _IncentiveCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    activity_kind: ActivityKindKey = Field(description="One of `GET /v1/activity-kinds`.")
    points: Points
    community_ids: CommunityIds | None = None
    starts_at: UtcDatetime | None = Field(default=None, description="Activities that occurred "
                                                                     "from then on count.")
    ends_at: UtcDatetime | None = Field(default=None, description="Activities that occurred "
                                                                  "before then count.")
    status: Literal[IncentiveStatus.draft, IncentiveStatus.active] = IncentiveStatus.active

    _window = field_validator("ends_at")(_later_than("starts_at"))


class PointsRuleCreate(_IncentiveCreate):
    """Points for each activity of a kind, times the advocate's tier multiplier."""

    kind: Literal[IncentiveKind.points_rule]
    cap: Cap | None = None
    tier_ids: TierIds | None = None
    properties: PropertyMatch | None = None


class MilestoneCreate(_IncentiveCreate):
    """A bonus once a member has done `count` activities of a kind."""

    kind: Literal[IncentiveKind.milestone]
    count: Count


class FirstNCreate(_IncentiveCreate):
    """A bonus for the first `n` advocates to do an activity of a kind (early adopters)."""

    kind: Literal[IncentiveKind.first_n]
    n: FirstN


class ReferralCreate(_IncentiveCreate):
    """A bonus to the referrer when a member who signed up with their code does a first
    activity of the kind. Self-referrals and shared emails or identities are refused."""

    kind: Literal[IncentiveKind.referral]


IncentiveCreate = Annotated[PointsRuleCreate | MilestoneCreate | FirstNCreate | ReferralCreate,
                            Field(discriminator="kind")]
MODEL_FOR_KIND: dict[IncentiveKind, type[_IncentiveCreate]] = {
    IncentiveKind.points_rule: PointsRuleCreate, IncentiveKind.milestone: MilestoneCreate,
    IncentiveKind.first_n: FirstNCreate, IncentiveKind.referral: ReferralCreate,
}
# The fields that make up a version's terms: changing any of them on an active incentive starts
# a new version.
TERM_FIELDS = ("activity_kind", "points", "starts_at", "ends_at", "cap", "community_ids",
               "tier_ids", "properties", "count", "n")


class IncentiveUpdate(BaseModel):
    """Only the fields sent change; a field of another kind is refused. Changing the terms of an
    active or paused incentive starts a new version from now on (activities received before keep
    the old terms); a draft's terms are rewritten in place. Status moves: draft → active,
    active ↔ paused, active or paused → ended. The kind and the activity kind never change:
    create another incentive instead."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"points": 120, "cap": {"max": 3, "per": "week"}}, {"status": "paused"}]})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    status: IncentiveStatus | None = None
    points: Points | None = None
    community_ids: CommunityIds | None = None
    starts_at: UtcDatetime | None = None
    ends_at: UtcDatetime | None = None
    cap: Cap | None = None
    tier_ids: TierIds | None = None
    properties: PropertyMatch | None = None
    count: Count | None = None
    n: FirstN | None = None


class TermsRead(BaseModel):
    activity_kind: str
    points: int
    cap: Cap | None = None
    community_ids: list[RowId] | None = None
    tier_ids: list[RowId] | None = None
    properties: dict[str, str] | None = None
    count: int | None = None
    n: int | None = None
    starts_at: datetime | None
    ends_at: datetime | None


class IncentiveVersionRead(TermsRead):
    version: int
    effective_from: datetime = Field(description="Activities received from then on are scored "
                                                 "by this version (for a draft: once active).")
    effective_to: datetime | None
    created_by_id: RowId | None


class IncentiveRead(TermsRead):
    """The incentive with the terms of its current version."""

    id: int
    name: str
    kind: IncentiveKind
    status: IncentiveStatus
    version: int
    created_at: datetime
    updated_at: datetime


class IncentiveDetail(IncentiveRead):
    versions: list[IncentiveVersionRead] = Field(description="Every version, oldest first.")


IncentivePage = Page[IncentiveRead]
IncentiveVersionPage = Page[IncentiveVersionRead]


class PeriodRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"start": "2026-10-01T00:00:00+00:00", "end": "2026-11-01T00:00:00+00:00"}]})

    start: UtcDatetime = Field(description="Activities that occurred from then on …")
    end: UtcDatetime = Field(description="… and before then.")

    _period = field_validator("end")(_later_than("start"))


class RescoreRequest(PeriodRequest):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"start": "2026-10-01T00:00:00+00:00", "end": "2026-11-01T00:00:00+00:00",
         "dry_run": True}]})

    dry_run: bool = Field(default=True, description="True: only preview what the rescore "
                                                    "would award (a preview job).")

