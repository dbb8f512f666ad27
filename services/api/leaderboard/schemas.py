from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from shared.schemas.types import RowId


class LeaderboardPeriod(StrEnum):
    week = "week"
    month = "month"
    quarter = "quarter"
    year = "year"
    all = "all"


class LeaderboardRow(BaseModel):
    rank: int
    advocate_id: RowId
    member_id: RowId
    name: str
    points: int = Field(description="Points earned in the period: awards, bonuses, adjustments.")


class Leaderboard(BaseModel):
    community_id: RowId | None
    period: LeaderboardPeriod
    since: datetime | None = Field(description="Start of the period (UTC); null for `all`.")
    items: list[LeaderboardRow]
