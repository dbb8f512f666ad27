from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.api.pagination import Page

_EXAMPLE = {"name": "Conference ticket", "description": "A ticket to PyCon Europe.",
            "cost_points": 2500, "stock": 10, "per_member_limit": 1, "requires_approval": True}
MAX_POINTS = 10_000_000


class RewardCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})

    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    cost_points: int = Field(gt=0, le=MAX_POINTS)
    stock: int | None = Field(default=None, ge=0, le=MAX_POINTS, description="null: unlimited")
    per_member_limit: int | None = Field(default=None, ge=1, le=1000,
                                         description="null: no limit per advocate")
    requires_approval: bool = False
    active: bool = True


class RewardUpdate(BaseModel):
    """Every field optional: only the fields sent change. `stock` and `per_member_limit` take
    null (unlimited); the other types are not nullable, so an explicit null is refused (422),
    while an omitted field stays unset (defaults are not validated)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"stock": 25}]})

    name: str = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    cost_points: int = Field(default=None, gt=0, le=MAX_POINTS)
    stock: int | None = Field(default=None, ge=0, le=MAX_POINTS)
    per_member_limit: int | None = Field(default=None, ge=1, le=1000)
    requires_approval: bool = None
    active: bool = None


class RewardRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str | None
    cost_points: int
    stock: int | None
    per_member_limit: int | None
    requires_approval: bool
    active: bool
    created_at: datetime
    updated_at: datetime


RewardPage = Page[RewardRead]
