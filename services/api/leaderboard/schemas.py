from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class LeaderboardPeriod(StrEnum):
    week = "week"
    month = "month"
    quarter = "quarter"
    year = "year"
    all = "all"


class LeaderboardRow(BaseModel):
    rank: int
    advocate_id: int
    member_id: int
    name: str
    points: int = Field(description="Points earned in the period: awards, bonuses, adjustments.")


class Leaderboard(BaseModel):
    community_id: int | None
    period: LeaderboardPeriod
    since: datetime | None = Field(description="Start of the period (UTC); null for `all`.")
    items: list[LeaderboardRow]
