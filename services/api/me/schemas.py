from pydantic import BaseModel, ConfigDict, Field

from services.api.pagination import Page
from services.api.rewards.schemas import RewardRead
from shared.schemas.types import RowId


class MyRedemptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reward_id": 1}]})

    reward_id: RowId = Field(ge=1)


class MyRewardRead(RewardRead):
    affordable: bool = Field(description="The balance covers the cost.")
    in_stock: bool


MyRewardPage = Page[MyRewardRead]
