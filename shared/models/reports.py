"""Stored metric reports: each run of a report (on demand or by the schedule), its parameters and
its result, so staff can compare a community's numbers over time without recomputing them."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from shared.models.base import created_at_field, timestamp_field


class ReportKind(StrEnum):
    engagement = "engagement"
    impact_relevance = "impact_relevance"
    health = "health"
    growth = "growth"
    influence = "influence"


class ReportRunStatus(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class ReportTrigger(StrEnum):
    schedule = "schedule"
    on_demand = "on_demand"


# Only the schedule must store a period once: staff may ask for the same period again on demand
# (after a correction of the data, say), and each of those runs is kept.
SCHEDULED_ONLY = sa.text("trigger = 'schedule'")


class ReportRun(SQLModel, table=True):
    __tablename__ = "report_run"
    __table_args__ = (
        # The schedule's conditional insert (ON CONFLICT DO NOTHING) relies on this index: two
        # runs of the cron, even at once, store a community's report for a period once.
        Index("uq_report_run_scheduled_period", "kind", "community_id", "period_start",
              "period_end", "trigger", unique=True,
              postgresql_where=SCHEDULED_ONLY, sqlite_where=SCHEDULED_ONLY),
        # History, newest first, by community and kind.
        Index("ix_report_run_community_kind", "community_id", "kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=30)
    # Null for the reports over all communities (impact and relevance).
    community_id: int | None = Field(default=None, foreign_key="community.id")
    # The report's own parameters beyond the community and period (interval, weights, ...).
    parameters: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON, nullable=False)
    status: str = Field(default=ReportRunStatus.queued, max_length=20)
    # The job that builds an on-demand run and reports its progress; the schedule builds its
    # runs itself and stores them done.
    job_id: int | None = Field(default=None, foreign_key="job.id", unique=True)
    result: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON, nullable=True)
    trigger: str = Field(max_length=20, index=True)
    requested_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    # Inclusive UTC dates, as the report endpoints take them; a health report is as of the end.
    period_start: date = Field(sa_type=sa.Date, nullable=False)
    period_end: date = Field(sa_type=sa.Date, nullable=False)
    created_at: datetime = created_at_field()
    finished_at: datetime | None = timestamp_field()
