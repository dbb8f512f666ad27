from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from shared.models.base import created_at_field, json_list_field, timestamp_field


class Job(SQLModel, table=True):
    """A long piece of work done by the worker. Its state lives here, not in Redis, so it
    survives a Redis restart and a periodic sweep can re-enqueue what was lost."""

    __tablename__ = "job"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=50, index=True)
    status: str = Field(default="queued", max_length=20, index=True)
    progress: int = Field(default=0)
    total: int | None = Field(default=None)
    # Runs started so far: a job that keeps dying (crash, timeout) is given up, not retried forever.
    attempts: int = Field(default=0)
    # The job's input (e.g. an uploaded CSV), so the worker never depends on Redis for it.
    payload: str | None = Field(default=None, sa_type=sa.Text)
    params: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON, nullable=False)
    result: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON, nullable=False)
    errors: list[dict[str, Any]] = json_list_field()
    created_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    created_at: datetime = created_at_field()
    started_at: datetime | None = timestamp_field()
    finished_at: datetime | None = timestamp_field()
