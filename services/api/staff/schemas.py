from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from services.api.pagination import Page
from shared.models.enums import StaffRole


class StaffCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{
            "email": "grace@example.org", "name": "Grace Hopper",
            "role": "manager", "password": "a-long-passphrase",
        }]},
    )

    email: EmailStr = Field(max_length=320)
    name: str = Field(min_length=1, max_length=200)
    role: StaffRole
    password: str = Field(min_length=12, max_length=1024)


class StaffUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"role": "admin"}]})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: StaffRole | None = None


class StaffRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    role: StaffRole
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None


StaffPage = Page[StaffRead]
