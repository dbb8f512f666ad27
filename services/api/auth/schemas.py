from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class LoginRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"email": "ada@example.org", "password": "s3cret-pass"}]},
    )

    # Not EmailStr: the default first admin is admin@localhost, which has no public domain.
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class TokenRead(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth token type, not a secret)
    expires_at: datetime


class WhoAmI(BaseModel):
    kind: str
    id: int
    name: str
    role: str | None = None
    permissions: list[str]
