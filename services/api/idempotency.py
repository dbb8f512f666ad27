"""`Idempotency-Key` for writes that clients retry (DESIGN.md section 2).

The first request with a key claims it by inserting the caller's `IdempotencyRecord`, in the same
transaction as its own writes, and fills in its response before that transaction commits. A retry
finds the record and gets the first response again, byte for byte, without running the write; the
same key with another request is refused. Two requests racing with one key meet at the record's
unique constraint: the second waits until the first commits, then replays its response (or, if
the first failed and rolled back, takes the key over). Only successes are remembered: a refused
request leaves no record, so it can be corrected and sent again with the same key. Records are
kept for the retention setting, then the worker's cron (`services/worker/maintenance.py`) deletes
them; a retry after that runs as a new request.

Use it in a handler as `return await idempotency.respond(lambda: service.write(...))`, declaring
`idempotency: IdempotencyDep` after the permission dependency, so only permitted callers claim."""

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request, Response
from pydantic import BaseModel
from sqlmodel import select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.auth.principal import Principal, authenticate
from services.api.deps import SessionDep
from services.api.errors import ProblemError
from shared.ledger import insert_ignoring_duplicates
from shared.models import IdempotencyRecord
from shared.models.base import utcnow

HEADER = "Idempotency-Key"
# The status of a claimed record whose response is not written yet; only its own (uncommitted)
# transaction ever sees it.
_IN_PROGRESS = 0

KeyHeader = Annotated[str | None, Header(
    alias=HEADER, min_length=1, max_length=200,
    description="Any unique string (a UUID is a good choice). A retry with the same key returns "
                "the first response and changes nothing; the same key with a different request "
                "is refused (422 `idempotency-key-reused`). Keys are per caller and remembered "
                "for `HEARTH_IDEMPOTENCY_RETENTION_HOURS` (24 by default).",
)]


@dataclass(frozen=True)
class Idempotency:
    session: AsyncSession
    record_id: int | None = None  # the key this request claimed
    replay: Response | None = None  # the first response, when this request is a retry

    async def respond(self, produce: Callable[[], Awaitable[tuple[int, BaseModel]]]) -> Response:
        """Runs the write (`produce` returns its status and body) unless this is a retry."""
        if self.replay is not None:
            return self.replay
        status, payload = await produce()
        body = payload.model_dump_json()
        if self.record_id is not None:
            await self.session.exec(
                update(IdempotencyRecord).where(IdempotencyRecord.id == self.record_id)
                .values(status_code=status, response_body=body)
            )
        return Response(body, status_code=status, media_type="application/json")


async def _request_hash(request: Request) -> str:
    digest = hashlib.sha256(f"{request.method} {request.url.path}?{request.url.query}\n".encode())
    digest.update(await request.body())
    return digest.hexdigest()


async def idempotency(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(authenticate)],
    key: KeyHeader = None,
) -> Idempotency:
    if key is None:
        return Idempotency(session)
    caller, request_hash = principal.caller, await _request_hash(request)
    claimed = await session.exec(
        insert_ignoring_duplicates(session, IdempotencyRecord.__table__)
        .values(caller=caller, key=key, method=request.method, path=request.url.path,
                request_hash=request_hash, status_code=_IN_PROGRESS, response_body="",
                created_at=utcnow())
        .returning(IdempotencyRecord.__table__.c.id)
    )
    record_id = claimed.scalar_one_or_none()
    if record_id is not None:
        return Idempotency(session, record_id=record_id)
    first = (await session.exec(select(IdempotencyRecord).where(
        IdempotencyRecord.caller == caller, IdempotencyRecord.key == key))).one()
    if first.request_hash != request_hash:
        raise ProblemError(422, f"The {HEADER} {key!r} was used for a different request; "
                                "use a new key for a new request.",
                           type_="idempotency-key-reused")
    return Idempotency(session, replay=Response(
        first.response_body, status_code=first.status_code, media_type="application/json",
        headers={"Idempotent-Replayed": "true"}))


IdempotencyDep = Annotated[Idempotency, Depends(idempotency)]
