"""The member CSV format: read by the api to refuse a broken upload at once, and by the import job
to validate each row. Rows are validated with the same field types as the REST API, so a value the
API refuses is refused here too, with the same message."""

import csv
import io
from dataclasses import dataclass
from typing import Annotated

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    ValidationError,
    model_validator,
)

from shared.models import Job
from shared.models.enums import JobKind, MembershipRole
from shared.models.members import email_key_of
from shared.schemas.types import CountryCode, Slug, Tag, TimeZoneName

REQUIRED_COLUMNS = ("name", "email")
OPTIONAL_COLUMNS = ("handle", "country", "timezone", "interests", "community", "role", "joined_at")
INTEREST_SEPARATOR = ";"
OUTCOMES = ("created", "updated", "unchanged", "failed")


class CsvFormatError(ValueError):
    """The file as a whole cannot be imported (as opposed to one bad row)."""


def _split_interests(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(INTEREST_SEPARATOR) if part.strip()]
    return value


Interests = Annotated[list[Tag], BeforeValidator(_split_interests), Field(max_length=50)]


class MemberRow(BaseModel):
    """One row. A blank cell is absent: it leaves an existing member's value as it is."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    email: EmailStr = Field(max_length=320)
    handle: str | None = Field(default=None, max_length=100)
    country: CountryCode | None = None
    timezone: TimeZoneName | None = None
    interests: Interests | None = None
    community: Slug | None = None
    role: MembershipRole | None = None
    joined_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _membership_needs_community(self) -> "MemberRow":
        if (self.role or self.joined_at) and not self.community:
            raise ValueError("role and joined_at describe a membership: give the community too")
        return self

    @property
    def email_key(self) -> str:
        return email_key_of(self.email)


@dataclass(frozen=True)
class CsvRow:
    line: int  # where the row starts, as an editor shows it (the header is line 1)
    cells: dict[str, str]
    extra_cells: int = 0


@dataclass(frozen=True)
class CheckedRow:
    line: int
    row: MemberRow | None = None
    error: str | None = None


def decode(data: bytes) -> str:
    try:
        # utf-8-sig: spreadsheet programs put a byte order mark in front of "CSV UTF-8" exports.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvFormatError(
            f"The file is not UTF-8 text (invalid byte at offset {exc.start}); "
            "save it as 'CSV UTF-8' and upload it again."
        ) from exc


def _columns(header: list[str]) -> list[str]:
    columns = [name.strip().lower() for name in header]
    known = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    problems = []
    if missing := [name for name in REQUIRED_COLUMNS if name not in columns]:
        problems.append(f"lacks the required column(s) {', '.join(missing)}")
    # An unknown column is usually a typo ("emial"); importing without it would drop data silently.
    if unknown := [name for name in columns if name not in known]:
        problems.append(f"has unknown column(s) {', '.join(map(repr, unknown))}")
    if duplicated := sorted({name for name in columns if columns.count(name) > 1}):
        problems.append(f"names the column(s) {', '.join(duplicated)} more than once")
    if problems:
        raise CsvFormatError(f"The header {' and '.join(problems)}. The first line must name the "
                             f"columns, from: {', '.join(known)}.")
    return columns


def read_rows(text: str) -> list[CsvRow]:
    """The data rows of a member CSV, with their line numbers. Blank lines are skipped."""
    # strict: an unbalanced quote is an error, not a field that silently swallows later rows.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise CsvFormatError("The file is empty: the first line must name the columns.")
        columns = _columns(header)
        rows = []
        line = reader.line_num + 1
        for cells in reader:
            if any(cell.strip() for cell in cells):
                rows.append(CsvRow(line=line, cells=dict(zip(columns, cells, strict=False)),
                                   extra_cells=max(0, len(cells) - len(columns))))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise CsvFormatError(f"Line {reader.line_num}: the file is not valid CSV ({exc}).") from exc
    return rows


def _describe(error: dict) -> str:
    field = ".".join(str(part) for part in error["loc"])
    if error["type"] == "missing":
        return f"{field} is required"
    message = error["msg"].removeprefix("Value error, ")
    return f"{field}: {message}" if field else message


def check_row(row: CsvRow) -> CheckedRow:
    if row.extra_cells:
        return CheckedRow(row.line, error=f"the row has {row.extra_cells} cell(s) more than the "
                                          "header has columns")
    present = {name: value for name, value in row.cells.items() if value.strip()}
    try:
        return CheckedRow(row.line, row=MemberRow.model_validate(present))
    except ValidationError as exc:
        return CheckedRow(row.line, error="; ".join(_describe(e) for e in exc.errors()))


def check_rows(rows: list[CsvRow]) -> list[CheckedRow]:
    """Validates every row. An email that appears twice is imported from its first valid row; the
    later rows are reported, since the file cannot mean both. Pure and deterministic, so a resumed
    import judges every row exactly as the interrupted run did."""
    checked = [check_row(row) for row in rows]
    first_line: dict[str, int] = {}
    for index, item in enumerate(checked):
        if item.row is None:
            continue
        key = item.row.email_key
        if key in first_line:
            checked[index] = CheckedRow(item.line, error=f"email {item.row.email} is already on "
                                                         f"line {first_line[key]} of this file")
        else:
            first_line[key] = item.line
    return checked


def new_import_job(data: bytes, *, filename: str | None, created_by_id: int | None) -> Job:
    """The queued job for an uploaded file, or CsvFormatError if the file cannot be imported."""
    text = decode(data)
    rows = read_rows(text)
    if not rows:
        raise CsvFormatError("The file has a header but no rows to import.")
    return Job(kind=JobKind.member_import, payload=text, total=len(rows),
               params={"filename": filename}, result=dict.fromkeys(OUTCOMES, 0),
               created_by_id=created_by_id)
