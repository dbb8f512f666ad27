from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.api.pagination import Page
from shared.models.enums import JobKind, JobStatus
from shared.schemas.types import RowId


class JobError(BaseModel):
    line: int | None = Field(description="The input's line (a CSV header is line 1); null when "
                                         "the error concerns the whole job.")
    reason: str


class JobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: JobKind
    status: JobStatus
    progress: int = Field(description="Items done so far, out of `total`.")
    total: int | None
    attempts: int = Field(description="Runs started; a run that dies is resumed by another.")
    errors: list[JobError]
    result: dict[str, Any] = Field(
        description="Depends on the kind; a member import counts `created`, `updated`, "
                    "`unchanged` and `failed` rows."
    )
    created_by_id: RowId | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


JobPage = Page[JobRead]
