from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from services.api.pagination import Page
from services.api.tiers.schemas import TierSummary
from shared.ledger import EntryKind
from shared.schemas.types import RowId

# Far beyond any real movement, and well inside the integer columns, so no sum can overflow.
MAX_ADJUSTMENT = 10_000_000


class AdvocateStatus(StrEnum):
    active = "active"
    paused = "paused"
    removed = "removed"


class AdvocateSort(StrEnum):
    """`id` ascending; points sorts show the largest first."""

    id = "id"
    balance = "balance"
    lifetime_points = "lifetime_points"


class AdvocateCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"member_id": 7}]})

    member_id: RowId = Field(ge=1)


# How `advocates.repository.ADVOCATE_VIEW` labels its columns: the advocate's own under these
# names, the tiers' as `tier_<field>` and `next_tier_<field>`.
ADVOCATE_COLUMNS = ("id", "member_id", "status", "balance", "lifetime_points", "referral_code",
                    "enrolled_at", "updated_at")
TIER_COLUMNS = tuple(TierSummary.model_fields)


def _tier_from(row, prefix: str) -> TierSummary | None:
    if row[f"{prefix}id"] is None:
        return None
    return TierSummary(**{name: row[f"{prefix}{name}"] for name in TIER_COLUMNS})


class AdvocateRead(BaseModel):
    id: int
    member_id: RowId
    name: str
    email: str | None
    status: AdvocateStatus
    balance: int
    lifetime_points: int
    referral_code: str
    tier: TierSummary | None
    next_tier: TierSummary | None
    points_to_next_tier: int | None = Field(
        description="Lifetime points still needed for the next tier; null at the top tier.")
    enrolled_at: datetime
    updated_at: datetime

    @classmethod
    def from_view(cls, row) -> "AdvocateRead":
        """From a row of `advocates.repository.ADVOCATE_VIEW`, or its mapping."""
        row = getattr(row, "_mapping", row)
        next_tier = _tier_from(row, "next_tier_")
        return cls(
            **{name: row[name] for name in ADVOCATE_COLUMNS},
            name=row["name"],
            email=row["email"],
            tier=_tier_from(row, "tier_"),
            next_tier=next_tier,
            points_to_next_tier=(next_tier.min_lifetime_points - row["lifetime_points"]
                                 if next_tier else None),
        )


AdvocatePage = Page[AdvocateRead]


class AdjustmentCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"points": 150, "reason": "Keynote at PyCon, paid late"}]},
    )

    points: int = Field(ge=-MAX_ADJUSTMENT, le=MAX_ADJUSTMENT,
                        description="Non-zero: positive credits, negative debits.")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]

    @field_validator("points")
    @classmethod
    def _not_zero(cls, points: int) -> int:
        if points == 0:
            raise ValueError("an adjustment moves at least one point")
        return points


class ActivityCause(BaseModel):
    id: int
    kind: str


class IncentiveCause(BaseModel):
    id: int
    name: str
    version: int | None


class RedemptionCause(BaseModel):
    id: int
    reward_id: RowId
    reward_name: str


class StaffCause(BaseModel):
    id: int
    name: str


class LedgerEntryRead(BaseModel):
    """One point movement and what caused it, so any balance explains itself."""

    id: int
    kind: EntryKind
    points: int
    reason: str
    created_at: datetime
    activity: ActivityCause | None
    incentive: IncentiveCause | None
    redemption: RedemptionCause | None
    staff_user: StaffCause | None


LedgerPage = Page[LedgerEntryRead]


class AccessLinkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid",
                              json_schema_extra={"examples": [{"expires_in_days": 30}]})

    expires_in_days: int = Field(default=30, ge=1, le=365)


class AccessLinkRead(BaseModel):
    """Shown once: only the token's SHA-256 is stored."""

    url: str
    token: str
    expires_at: datetime


class AccessLinkSummary(BaseModel):
    """An issued link as staff see it later: never the token, which was shown once."""

    id: int
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    created_by_id: RowId | None
    active: bool = Field(description="Neither revoked nor expired: it still opens the page.")


AccessLinkPage = Page[AccessLinkSummary]


class AccessLinksRevoked(BaseModel):
    revoked: int = Field(description="How many links stopped working.")
