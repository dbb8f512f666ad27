"""Keyset (cursor) pagination: stable under inserts and fast on any page, unlike OFFSET."""

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select, and_, or_

from services.api.errors import ProblemError

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class PageParams(BaseModel):
    limit: int = 50
    after_id: int | None = None
    # Lists sorted by another column resume after (that column's value, id) of the last row; the
    # sort's name travels along so a cursor is never applied to a different order.
    after_sort: str | None = None
    after_key: int | None = None


def _bad_cursor() -> ProblemError:
    return ProblemError(422, "cursor is not one this API handed out", type_="bad-cursor")


def encode_cursor(last_id: int, *, sort: str | None = None, key: int | None = None) -> str:
    position = {"id": last_id} if sort is None else {"id": last_id, "sort": sort, "key": key}
    raw = json.dumps(position).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_position(cursor: str) -> dict[str, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded))
        well_formed = (isinstance(position["id"], int)
                       and isinstance(position.get("sort", ""), str)
                       and isinstance(position.get("key", 0), int))
        if not well_formed:
            raise TypeError
        return position
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise _bad_cursor() from exc


def page_params(
    limit: Annotated[int, Query(ge=1, le=500, description="Items per page (max 500).")] = 50,
    cursor: Annotated[
        str | None, Query(max_length=200, description="`next_cursor` of the previous page.")
    ] = None,
) -> PageParams:
    if cursor is None:
        return PageParams(limit=limit)
    position = _decode_position(cursor)
    return PageParams(limit=limit, after_id=position["id"], after_sort=position.get("sort"),
                      after_key=position.get("key"))


def paginate_query(
    query: Select, id_column: Any, params: PageParams, *, descending: bool = False
) -> Select:
    """Orders by id (newest first when `descending`) and fetches one row more than asked, to know
    whether a next page exists."""
    if params.after_sort is not None:
        raise _bad_cursor()
    if params.after_id is not None:
        after = id_column < params.after_id if descending else id_column > params.after_id
        query = query.where(after)
    return query.order_by(id_column.desc() if descending else id_column).limit(params.limit + 1)


def paginate_sorted(
    query: Select,
    params: PageParams,
    *,
    sort: str,
    column: Any,
    id_column: Any,
    descending: bool = False,
) -> Select:
    """Keyset pagination on (column, id): rows with equal values keep a stable order by id, so
    no row is skipped or repeated between pages. Pair with `make_page(..., sort=sort)`, where
    `sort` is also the attribute holding the column's value on a row."""
    if params.after_id is not None:
        if params.after_sort != sort or params.after_key is None:
            raise _bad_cursor()
        beyond = column < params.after_key if descending else column > params.after_key
        query = query.where(or_(beyond, and_(column == params.after_key,
                                             id_column > params.after_id)))
    order = column.desc() if descending else column
    return query.order_by(order, id_column).limit(params.limit + 1)


def make_page(
    rows: Sequence[Any], params: PageParams, *, sort: str | None = None
) -> tuple[list[Any], str | None]:
    rows = list(rows)
    if len(rows) > params.limit:
        rows = rows[: params.limit]
        last = rows[-1]
        key = getattr(last, sort) if sort else None
        return rows, encode_cursor(last.id, sort=sort, key=key)
    return rows, None
