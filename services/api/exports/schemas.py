"""The exports' query parameters. Each set is one model that forbids unknown parameters, so a
misspelt filter is a 422 rather than a silently unfiltered (and possibly huge) export."""

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from shared.models.enums import MemberStatus
from shared.schemas.types import RowId


class _Query(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MembersQuery(_Query):
    community_id: RowId | None = Field(default=None, description="Members of this community.")
    status: MemberStatus | None = None


class _TimeWindow(_Query):
    start: AwareDatetime | None = Field(default=None, description="At or after (with an offset).")
    end: AwareDatetime | None = Field(default=None, description="Before (with an offset).")

    @model_validator(mode="after")
    def _end_after_start(self) -> "_TimeWindow":
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class ActivitiesQuery(_TimeWindow):
    """Activities by when they occurred, as `GET /v1/activities` filters them."""

    community_id: RowId | None = None


class LedgerQuery(_TimeWindow):
    """Point movements by when they were posted."""

    advocate_id: RowId | None = Field(default=None, description="One advocate's ledger.")
