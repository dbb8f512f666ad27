"""Reading a CSV of attendees (`name`, `email`): each row is checked on its own, so a bad row is
reported with its line and the good rows still count."""

import csv
import io
from dataclasses import dataclass

from pydantic import EmailStr, TypeAdapter, ValidationError

from services.api.events.schemas import MAX_BULK_CHECK_INS
from shared.models.members import email_key_of

MAX_CSV_BYTES = 2 * 1024 * 1024
MAX_NAME_LENGTH = 200
MAX_EMAIL_LENGTH = 320

_email = TypeAdapter(EmailStr)


class CsvFormatError(ValueError):
    """The file as a whole cannot be read: nothing in it is used."""


@dataclass(frozen=True)
class AttendeeRow:
    line: int
    name: str | None
    email: str | None
    error: str | None = None

    @property
    def email_key(self) -> str:
        return email_key_of(self.email)


def _row(line: int, name: str, email: str) -> AttendeeRow:
    name, email = name.strip() or None, email.strip() or None
    if email is None:
        return AttendeeRow(line, name, None, "email is missing")
    if len(email) > MAX_EMAIL_LENGTH:
        return AttendeeRow(line, name, None, f"email is longer than {MAX_EMAIL_LENGTH} characters")
    try:
        _email.validate_python(email)
    except ValidationError:
        return AttendeeRow(line, name, email, "email is not a valid email address")
    if name is not None and len(name) > MAX_NAME_LENGTH:
        return AttendeeRow(line, None, email, f"name is longer than {MAX_NAME_LENGTH} characters")
    return AttendeeRow(line, name, email)


def parse_attendees(data: bytes) -> list[AttendeeRow]:
    """The rows of a UTF-8 CSV whose header names an `email` column (and usually `name`; any
    other column is ignored). Blank lines are skipped."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvFormatError("The file is not UTF-8 text.") from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [column.strip().lower() for column in next(reader, [])]
        if "email" not in header:
            raise CsvFormatError("The first line must name the columns, with at least `email` "
                                 "(and `name` to create members who do not exist yet).")
        email_at = header.index("email")
        name_at = header.index("name") if "name" in header else None
        rows = []
        for values in reader:
            if not any(value.strip() for value in values):
                continue
            if len(rows) == MAX_BULK_CHECK_INS:
                raise CsvFormatError(f"The file has more than {MAX_BULK_CHECK_INS:,} attendees; "
                                     "split it into smaller files.")
            cell = dict(enumerate(values))
            rows.append(_row(reader.line_num, cell.get(name_at, ""), cell.get(email_at, "")))
    except csv.Error as exc:
        raise CsvFormatError(f"line {reader.line_num}: {exc}") from exc
    if not rows:
        raise CsvFormatError("The file has no attendees.")
    return rows
