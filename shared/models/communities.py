from datetime import datetime

from sqlmodel import Field, SQLModel

from shared.models.base import created_at_field, json_list_field, updated_at_field


class Community(SQLModel, table=True):
    __tablename__ = "community"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, index=True)
    slug: str = Field(max_length=100, unique=True)
    kind: str = Field(max_length=20, index=True)
    city: str | None = Field(default=None, max_length=100)
    country: str | None = Field(default=None, max_length=2, index=True)
    timezone: str = Field(default="UTC", max_length=64)
    description: str | None = Field(default=None, max_length=5000)
    tags: list[str] = json_list_field()
    code_of_conduct_url: str | None = Field(default=None, max_length=2000)
    status: str = Field(default="active", max_length=20, index=True)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()
