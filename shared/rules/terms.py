"""The vocabulary of incentives (DESIGN.md section 3) and the terms one incentive version keeps.

The API validates request bodies against these types and stores `VersionTerms` in
`IncentiveVersion.terms`; the worker reads them back as a `Rule`."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.models import Incentive, IncentiveVersion

ActivityKindKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,49}$")]


class IncentiveKind(StrEnum):
    points_rule = "points_rule"
    milestone = "milestone"
    first_n = "first_n"
    referral = "referral"


class IncentiveStatus(StrEnum):
    draft = "draft"
    active = "active"
    paused = "paused"
    ended = "ended"


class CapPeriod(StrEnum):
    day = "day"
    week = "week"  # ISO week, from Monday
    month = "month"


class ActivityOutcome(StrEnum):
    """What the worker decided for an activity, recorded on it with `processed_at`."""

    awarded = "awarded"
    capped = "capped"  # a points rule matched, but its cap for the period was reached
    no_matching_incentive = "no_matching_incentive"
    not_an_advocate = "not_an_advocate"
    advocate_inactive = "advocate_inactive"
    member_suspended = "member_suspended"
    member_banned = "member_banned"


# Members in these states earn; suspended and banned members earn nothing while so.
EARNING_MEMBER_STATUSES = ("active", "warned")
ACTIVE_ADVOCATE = "active"


class Cap(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True,
                              json_schema_extra={"examples": [{"max": 2, "per": "day"}]})

    max: int = Field(ge=1, le=100_000, description="Awards per member and period at most.")
    per: CapPeriod = Field(description="Calendar day, ISO week or month, in the activity's "
                                       "community's time zone (UTC without a community).")


class VersionTerms(BaseModel):
    """The kind-specific terms `IncentiveVersion.terms` holds; absent means "no condition"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cap: Cap | None = None
    community_ids: tuple[int, ...] | None = None
    tier_ids: tuple[int, ...] | None = None
    properties: dict[str, str] | None = None
    count: int | None = None  # milestone: the Nth activity
    n: int | None = None  # first_n: the first N advocates

    def to_json(self) -> dict:
        return self.model_dump(mode="json", exclude_none=True)


@dataclass(frozen=True)
class Rule:
    """One incentive version, as the engine applies it."""

    incentive_id: int
    name: str
    kind: IncentiveKind
    version: int
    activity_kind: str
    points: int
    terms: VersionTerms
    starts_at: datetime | None
    ends_at: datetime | None
    # The live engine scores an activity by the version in force when it was received.
    effective_from: datetime
    effective_to: datetime | None

    @classmethod
    def of(cls, incentive: Incentive, version: IncentiveVersion) -> "Rule":
        return cls(
            incentive_id=incentive.id, name=incentive.name, kind=IncentiveKind(incentive.kind),
            version=version.version, activity_kind=version.activity_kind, points=version.points,
            terms=VersionTerms.model_validate(version.terms), starts_at=version.starts_at,
            ends_at=version.ends_at, effective_from=version.effective_from,
            effective_to=version.effective_to,
        )

    @property
    def reason(self) -> str:
        """The ledger entry's reason; the entry also names the activity, incentive and version."""
        terms = self.terms
        what = {
            IncentiveKind.points_rule: self.activity_kind,
            IncentiveKind.milestone: f"{self.activity_kind} number {terms.count}",
            IncentiveKind.first_n: f"among the first {terms.n} to do {self.activity_kind}",
            IncentiveKind.referral: f"a referred member's first {self.activity_kind}",
        }[self.kind]
        return f"{self.name} (v{self.version}): {what}"
