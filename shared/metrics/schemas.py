"""The reports of DESIGN.md section 4 as they go over the wire and into storage. The api returns
them, the worker stores them and the web draws them, so they live here and import nothing from
the services. Every report carries an `explanation`: the formula as staff see it."""

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, Field, model_validator


class TopMember(BaseModel):
    member_id: int
    name: str
    points: int = Field(description="Points earned in the period (awards, bonuses, adjustments).")
    activities: int = Field(description="Activities in the period.")


class EngagementReport(BaseModel):
    community_id: int | None = Field(description="null: the whole program.")
    start: date
    end: date
    members: int = Field(description="Memberships with joined_at <= end.")
    new_members: int = Field(description="Memberships with joined_at in the period.")
    active_members: int = Field(description="Distinct members with >= 1 activity in the period.")
    active_posters: int = Field(
        description="Distinct members with >= 1 content activity (post, answer, content, talk).")
    activities: int = Field(description="Activities in the period.")
    events: int = Field(description="Events starting in the period, cancelled ones left out.")
    attendance: int = Field(description="Check-ins at those events.")
    feedback_count: int = Field(description="Feedback submitted in the period.")
    mean_rating: float | None = Field(description="Mean rating of the rated feedback (1-5).")
    median_first_response_hours: float | None = Field(
        description="Median hours from submission to the first staff response, over the "
                    "period's feedback that has one.")
    top_members: list[TopMember] = Field(description="By points, then activities.")
    top_members_by_activity: list[TopMember] = Field(description="By activities, then points.")
    explanation: str


class ImpactRelevanceWeights(BaseModel):
    """How much each per-member rate counts toward impact. Non-negative, not all zero."""

    model_config = {"extra": "forbid"}

    conversion: float = Field(ge=0, description="New members converted to active.")
    attendance: float = Field(ge=0, description="Attendance per event.")
    content: float = Field(ge=0, description="Content published per member.")
    talks: float = Field(ge=0, description="Talks given per member.")
    referrals: float = Field(ge=0, description="Referrals converted per member.")

    @model_validator(mode="after")
    def _not_all_zero(self) -> "ImpactRelevanceWeights":
        if self.total() <= 0:
            raise ValueError("at least one impact weight must be positive")
        return self

    def total(self) -> float:
        return self.conversion + self.attendance + self.content + self.talks + self.referrals


class Quadrant(StrEnum):
    high_impact_high_relevance = "high-impact-high-relevance"
    high_impact_low_relevance = "high-impact-low-relevance"
    low_impact_high_relevance = "low-impact-high-relevance"
    low_impact_low_relevance = "low-impact-low-relevance"


class ImpactRelevanceInputs(BaseModel):
    members: int
    active_members: int
    activities: int
    focus_activities: int = Field(description="Activities of a focus kind or topic.")
    new_members: int
    new_members_active: int = Field(description="New members with >= 1 activity in the period.")
    events: int
    attendance: int
    content: int = Field(description="content_published activities.")
    talks: int = Field(description="talk_given activities.")
    referrals: int = Field(description="referral_converted activities.")
    size: int = Field(description="members, or active_members when more: the per-member "
                                  "rates' denominator.")
    conversion_rate: float = Field(description="new_members_active / new_members.")
    attendance_per_event: float
    content_per_member: float = Field(description="content / size.")
    talks_per_member: float = Field(description="talks / size.")
    referrals_per_member: float = Field(description="referrals / size.")


class ImpactRelevanceItem(BaseModel):
    community_id: int
    name: str
    impact: float = Field(ge=0, le=100)
    relevance: float = Field(ge=0, le=100)
    quadrant: Quadrant
    inputs: ImpactRelevanceInputs


class ImpactRelevanceReport(BaseModel):
    start: date
    end: date
    focus_kinds: list[str]
    focus_topics: list[str]
    weights: ImpactRelevanceWeights
    formula: str
    explanation: str
    items: list[ImpactRelevanceItem]


class HealthComponent(BaseModel):
    value: float | None = Field(description="The measured input; null when there is no data.")
    score: float = Field(ge=0, le=100)
    weight: float = Field(ge=0)
    explanation: str


class HealthReport(BaseModel):
    community_id: int
    as_of: date
    score: float = Field(ge=0, le=100, description="Weighted mean of the component scores.")
    components: dict[str, HealthComponent]
    explanation: str


class GrowthInterval(StrEnum):
    week = "week"
    month = "month"


class GrowthBucket(BaseModel):
    start: date
    end: date = Field(description="Inclusive; clipped to the report's end.")
    new_members: int
    active_members: int
    activities: int
    activities_per_active_member: float


class GrowthReport(BaseModel):
    community_id: int | None
    start: date
    end: date
    interval: GrowthInterval
    buckets: list[GrowthBucket]
    explanation: str


class InfluenceRing(StrEnum):
    core = "core"
    regular = "regular"
    casual = "casual"


class InfluenceMember(BaseModel):
    rank: int
    member_id: int
    name: str
    score: float = Field(description="Kind-weighted activity with exponential time decay.")
    activities: int
    ring: InfluenceRing


class InfluenceReport(BaseModel):
    community_id: int | None
    start: date
    end: date
    half_life_days: float
    kind_weights: dict[str, float]
    default_kind_weight: float
    ring_counts: dict[InfluenceRing, int]
    total_members: int
    members: list[InfluenceMember] = Field(description="The highest-ranked members, best first.")
    explanation: str
