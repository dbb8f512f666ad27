"""CSV exports, streamed. A query's rows arrive chunk by chunk from a server-side cursor and
leave as CSV text chunk by chunk, so an export of a million rows holds one chunk in memory.

The stream outlives the request's handler, and with it the request's session (closed once the
handler returns, see services/api/deps.py): it reads in a session of its own, opened when the
first chunk is sent. The handler has checked the caller and the parameters by then.

Cells hold what the JSON API returns for the same rows (the same read models make both), so a
CSV parses back into the API's values: lists of plain values joined by `;`, anything else nested
as JSON, nested objects flattened into `parent.child` columns."""

import csv
import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import Any, get_args, get_origin

from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy import Select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.activities.schemas import ActivityRead
from services.api.advocates.service import get_advocate, ledger_entry_read
from services.api.exports import repository
from services.api.exports.schemas import ActivitiesQuery, LedgerQuery, MembersQuery
from services.api.members.repository import identities_of
from services.api.members.service import member_read
from shared.db import session_scope
from shared.models import Member
from shared.models.base import utcnow

# Rows fetched from the cursor and written out at a time.
CHUNK_ROWS = 1000
# A cell starting like a formula would run as one in a spreadsheet (CSV injection); the quote
# makes it text. Numbers are never touched, so negative points stay numbers.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Row = dict[str, Any]
ToRows = Callable[[AsyncSession, Sequence[Any]], Awaitable[list[Row]]]

MEMBER_COLUMNS = ["id", "name", "email", "handle", "country", "timezone", "interests",
                  "identities", "status", "is_test", "referred_by_code", "erased_at",
                  "created_at", "updated_at"]
# What an erased member's row keeps: nothing that could name the person, whatever the row holds.
ERASED_MEMBER_COLUMNS = {"id", "name", "status", "is_test", "erased_at", "created_at",
                         "updated_at"}
ACTIVITY_COLUMNS = list(ActivityRead.model_fields)
LEDGER_COLUMNS = ["id", "advocate_id", "kind", "points", "reason", "created_at",
                  "activity.id", "activity.kind", "incentive.id", "incentive.name",
                  "incentive.version", "redemption.id", "redemption.reward_id",
                  "redemption.reward_name", "staff_user.id", "staff_user.name"]


def cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list) and all(isinstance(item, str | int | float) for item in value):
        return ";".join(str(item) for item in value)
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def flatten(data: dict[str, Any], prefix: str = "") -> Row:
    """Nested objects become `parent.child` columns; lists stay whole (see `cell`)."""
    flat: Row = {}
    for name, value in data.items():
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{prefix}{name}."))
        else:
            flat[f"{prefix}{name}"] = value
    return flat


def csv_text(columns: Sequence[str], rows: Iterable[Row], *, header: bool = False) -> str:
    out = io.StringIO()
    # Keys outside the columns are nested objects that are null (a ledger entry without a
    # redemption): their flattened columns stay empty.
    writer = csv.DictWriter(out, fieldnames=columns, restval="", extrasaction="ignore",
                            lineterminator="\r\n")
    if header:
        writer.writeheader()
    writer.writerows({name: cell(value) for name, value in row.items()} for row in rows)
    return out.getvalue()


def csv_response(stem: str, chunks: AsyncIterator[str]) -> StreamingResponse:
    filename = f"{stem}-{utcnow():%Y%m%d-%H%M%S}.csv"
    return StreamingResponse(chunks, media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _item_lists(model: type[BaseModel]) -> list[str]:
    """The fields of a report that hold a list of records (top members, buckets, items), in
    the report's order."""
    return [name for name, field in model.model_fields.items()
            if get_origin(field.annotation) is list
            and any(isinstance(arg, type) and issubclass(arg, BaseModel)
                    for arg in get_args(field.annotation))]


def report_rows(report: BaseModel) -> tuple[list[str], list[Row]]:
    """A report as rows: one per record of its lists, each record's fields under the list's
    name (`buckets.start`), with the report's own fields (flattened) repeated on every row; a
    report whose lists are empty is one row."""
    data = report.model_dump(mode="json")
    lists = _item_lists(type(report))
    head = flatten({name: value for name, value in data.items() if name not in lists})
    rows = [{**head, **flatten(record, f"{name}.")}
            for name in lists for record in data[name]] or [head]
    return list(dict.fromkeys(column for row in rows for column in row)), rows


async def _single_chunk(text: str) -> AsyncIterator[str]:
    yield text


def export_report(name: str, report: BaseModel) -> StreamingResponse:
    """A report is computed whole by the request (it is small: lists are capped), then sent."""
    columns, rows = report_rows(report)
    return csv_response(f"{name}-report", _single_chunk(csv_text(columns, rows, header=True)))


async def _stream(
    columns: Sequence[str], query: Select, to_rows: ToRows, *, scalars: bool
) -> AsyncIterator[str]:
    yield csv_text(columns, [], header=True)
    async with session_scope() as session:
        result = await session.stream(query.execution_options(yield_per=CHUNK_ROWS))
        chunks = result.scalars().partitions() if scalars else result.partitions()
        async for chunk in chunks:
            yield csv_text(columns, await to_rows(session, chunk))


async def _member_rows(session: AsyncSession, members: Sequence[Member]) -> list[Row]:
    identities = await identities_of(session, [member.id for member in members])
    rows = []
    for member in members:
        row = member_read(member, identities[member.id]).model_dump(mode="json")
        row["identities"] = [f"{i['provider']}:{i['external_id']}" for i in row["identities"]]
        if member.erased_at is not None:
            row = {name: row[name] for name in ERASED_MEMBER_COLUMNS}
            row["name"] = f"Erased member #{member.id}"
        rows.append(row)
    return rows


async def _activity_rows(_: AsyncSession, activities: Sequence[Any]) -> list[Row]:
    return [ActivityRead.model_validate(a).model_dump(mode="json") for a in activities]


async def _ledger_rows(_: AsyncSession, entries: Sequence[Any]) -> list[Row]:
    return [{"advocate_id": row[0].advocate_id,
             **flatten(ledger_entry_read(row).model_dump(mode="json"))} for row in entries]


def export_members(query: MembersQuery) -> StreamingResponse:
    statement = repository.members(community_id=query.community_id, status=query.status)
    return csv_response("members", _stream(MEMBER_COLUMNS, statement, _member_rows,
                                           scalars=True))


def export_activities(query: ActivitiesQuery) -> StreamingResponse:
    statement = repository.activities(community_id=query.community_id, start=query.start,
                                      end=query.end)
    return csv_response("activities", _stream(ACTIVITY_COLUMNS, statement, _activity_rows,
                                              scalars=True))


async def export_ledger(session: AsyncSession, query: LedgerQuery) -> StreamingResponse:
    if query.advocate_id is not None:
        await get_advocate(session, query.advocate_id)  # 404 before the stream begins
    statement = repository.ledger(advocate_id=query.advocate_id, start=query.start,
                                  end=query.end)
    return csv_response("ledger", _stream(LEDGER_COLUMNS, statement, _ledger_rows,
                                          scalars=False))
