from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from services.api.pagination import Page
from shared.schemas.types import RowId


class RedemptionStatus(StrEnum):
    requested = "requested"
    approved = "approved"
    fulfilled = "fulfilled"
    rejected = "rejected"
    cancelled = "cancelled"


# Redemptions that gave their points back; they do not count toward a per-member limit.
UNDONE = frozenset({RedemptionStatus.rejected, RedemptionStatus.cancelled})
# Redemptions that hold their points and were not handed over yet: staff may still cancel them.
PENDING = frozenset({RedemptionStatus.requested, RedemptionStatus.approved})


class RedemptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid",
                              json_schema_extra={"examples": [{"advocate_id": 3, "reward_id": 1}]})

    advocate_id: RowId = Field(ge=1)
    reward_id: RowId = Field(ge=1)


class RedemptionReject(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "Out of this size."}]})

    reason: str = Field(min_length=1, max_length=1000)


class RedemptionRead(BaseModel):
    id: int
    advocate_id: RowId
    advocate_name: str
    reward_id: RowId
    reward_name: str
    status: RedemptionStatus
    cost_points: int = Field(description="The points reserved at request.")
    reason: str | None = Field(description="Why it was rejected.")
    requested_at: datetime
    decided_at: datetime | None
    decided_by_id: RowId | None
    fulfilled_at: datetime | None


RedemptionPage = Page[RedemptionRead]
