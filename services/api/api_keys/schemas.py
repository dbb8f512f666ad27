from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.api.auth.permissions import GRANTABLE_SCOPES
from services.api.pagination import Page


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{
            "name": "Forum integration", "scopes": ["members:read", "members:write"],
        }]},
    )

    name: str = Field(min_length=1, max_length=200)
    scopes: list[str] = Field(min_length=1, max_length=50)

    @field_validator("scopes")
    @classmethod
    def known_scopes(cls, scopes: list[str]) -> list[str]:
        unknown = sorted(set(scopes) - GRANTABLE_SCOPES)
        if unknown:
            raise ValueError(
                f"unknown or not grantable scopes: {', '.join(unknown)}; "
                f"grantable: {', '.join(sorted(GRANTABLE_SCOPES))}"
            )
        return sorted(set(scopes))


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The secret. Shown only in this response; store it now.")


ApiKeyPage = Page[ApiKeyRead]
