from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from services.api.pagination import Page

# Stored as NUMERIC(6, 3); sent as a JSON number, which every client reads without surprises.
Multiplier = Annotated[
    Decimal,
    Field(gt=0, le=10, max_digits=6, decimal_places=3,
          description="Multiplies rule points; greater than 0, at most 10."),
    PlainSerializer(float, return_type=float, when_used="json"),
]
Perk = Annotated[str, Field(min_length=1, max_length=200)]

_EXAMPLE = {"name": "Silver", "min_lifetime_points": 500, "multiplier": 1.25,
            "perks": ["Early event registration", "Speaker coaching"]}


class TierCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})

    name: str = Field(min_length=1, max_length=100)
    min_lifetime_points: int = Field(ge=0, le=2_000_000_000)
    perks: list[Perk] = Field(default_factory=list, max_length=30)
    multiplier: Multiplier = Decimal("1")


class TierUpdate(BaseModel):
    """Every field optional: only the fields sent change. The types are not nullable, so an
    explicit null is refused (422) instead of reaching a NOT NULL column; defaults are not
    validated, so an omitted field simply stays unset."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"multiplier": 1.5}]})

    name: str = Field(default=None, min_length=1, max_length=100)
    min_lifetime_points: int = Field(default=None, ge=0, le=2_000_000_000)
    perks: list[Perk] = Field(default=None, max_length=30)
    multiplier: Multiplier = None


class TierRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    min_lifetime_points: int
    perks: list[str]
    multiplier: Multiplier
    created_at: datetime


class TierSummary(BaseModel):
    """A tier as other resources show it (an advocate's tier and next tier)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    min_lifetime_points: int
    multiplier: Multiplier
    perks: list[str]


TierPage = Page[TierRead]
