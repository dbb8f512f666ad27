from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.api.pagination import Page
from shared.rules.terms import ActivityKindKey


class ActivityKindCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "key": "workshop_run", "name": "Ran a workshop",
        "description": "Led a hands-on workshop at a meetup or conference.", "is_content": False,
    }]})

    key: ActivityKindKey = Field(description="Lower-case letters, digits and `_`; starts with a "
                                             "letter. Activities and incentives name it.")
    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    is_content: bool = Field(default=False, description="Counts toward \"active poster\" in the "
                                                        "metrics (posts, answers, talks, content).")


class ActivityKindRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    name: str
    description: str | None
    is_content: bool
    created_at: datetime


ActivityKindPage = Page[ActivityKindRead]
