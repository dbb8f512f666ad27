from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, File, Query, Response, UploadFile
from pydantic import AwareDatetime

from services.api.auth.permissions import Permission
from services.api.auth.principal import requires
from services.api.deps import SessionDep
from services.api.events import service
from services.api.events.attendee_csv import MAX_CSV_BYTES
from services.api.events.schemas import (
    MAX_BULK_CHECK_INS,
    AttendancePage,
    BulkCheckIn,
    BulkCheckInResult,
    CheckInResult,
    CsvCheckInResult,
    EventCancel,
    EventCreate,
    EventFormat,
    EventOrder,
    EventPage,
    EventRead,
    EventStatus,
    EventUpdate,
    MemberRef,
    RegistrationPage,
    RegistrationRead,
)
from services.api.idempotency import IdempotencyDep
from services.api.pagination import PageParams, page_params
from shared.jobs import enqueue_reward_calculation
from shared.schemas.types import RowId

router = APIRouter(prefix="/v1/events", tags=["events"])
ReaderDep = requires(Permission.events_read)
WriterDep = requires(Permission.events_write)
PageDep = Annotated[PageParams, Depends(page_params)]

CSV_HELP = (f"A UTF-8 CSV file (at most {MAX_CSV_BYTES // 2**20} MB, {MAX_BULK_CHECK_INS:,} "
            "rows) whose first line names its columns: `email`, and `name` for people who are "
            "not members yet.")


@router.post("", summary="Create an event", status_code=201, response_model=EventRead)
async def create_event(
    body: EventCreate, session: SessionDep, _: WriterDep, idempotency: IdempotencyDep
):
    return await idempotency.respond(lambda: service.create_event(session, body))


@router.get("", summary="List events in order of start", response_model=EventPage)
async def list_events(
    session: SessionDep,
    _: ReaderDep,
    params: PageDep,
    community_id: RowId | None = None,
    start: Annotated[AwareDatetime | None,
                     Query(description="Starting at or after (with an offset).")] = None,
    end: Annotated[AwareDatetime | None, Query(description="Starting before.")] = None,
    format: EventFormat | None = None,
    status: EventStatus | None = None,
    order: Annotated[EventOrder, Query(description="`asc`: soonest start first; `desc`: latest "
                                                   "start first.")] = EventOrder.asc,
):
    return await service.list_events(session, params, community_id=community_id, start=start,
                                     end=end, format=format, status=status, order=order)


@router.get("/{event_id}", summary="Get an event with its attendance and feedback summary",
            response_model=EventRead)
async def get_event(event_id: RowId, session: SessionDep, _: ReaderDep):
    return await service.read_event(session, event_id)


@router.patch("/{event_id}", summary="Update an event", response_model=EventRead)
async def update_event(event_id: RowId, body: EventUpdate, session: SessionDep, _: WriterDep):
    return await service.update_event(session, event_id, body)


@router.post("/{event_id}/cancel", summary="Cancel an event", response_model=EventRead,
             responses={409: {"description": "Cancelled already (`event-cancelled`), or people "
                                             "checked in (`event-has-attendance`)."}})
async def cancel_event(
    event_id: RowId, session: SessionDep, _: WriterDep, body: EventCancel | None = None
):
    """From then on the event refuses registrations, check-ins and changes (409
    `event-cancelled`); its registrations stay, as a record of who was expecting it."""
    return await service.cancel_event(session, event_id, body or EventCancel())


@router.post("/{event_id}/registrations", summary="Register a member", status_code=201,
             response_model=RegistrationRead,
             responses={200: {"model": RegistrationRead,
                              "description": "The member was registered already."}})
async def register(
    event_id: RowId, body: MemberRef, session: SessionDep, _: WriterDep, response: Response
):
    response.status_code, registration = await service.register(session, event_id,
                                                                 body.member_id)
    return registration


@router.get("/{event_id}/registrations", summary="List an event's registrations",
            response_model=RegistrationPage)
async def list_registrations(event_id: RowId, session: SessionDep, _: ReaderDep, params: PageDep):
    return await service.list_registrations(session, event_id, params)


@router.delete("/{event_id}/registrations/{member_id}", summary="Cancel a registration",
               status_code=204)
async def unregister(event_id: RowId, member_id: RowId, session: SessionDep, _: WriterDep) -> None:
    await service.unregister(session, event_id, member_id)


@router.post("/{event_id}/attendance", summary="Check a member in", status_code=201,
             response_model=CheckInResult,
             responses={200: {"model": CheckInResult,
                              "description": "Checked in before: nothing changed."}})
async def check_in(
    event_id: RowId, body: MemberRef, session: SessionDep, principal: WriterDep,
    background: BackgroundTasks, response: Response,
):
    # The worker awards the points once the transaction has committed; if Redis is down, the
    # activity stays pending until the worker's cron finds it.
    background.add_task(enqueue_reward_calculation)
    response.status_code, result = await service.check_in(session, event_id, body.member_id,
                                                          principal)
    return result


@router.post("/{event_id}/attendance/bulk",
             summary=f"Check in up to {MAX_BULK_CHECK_INS:,} members at once",
             response_model=BulkCheckInResult)
async def check_in_bulk(
    event_id: RowId, body: BulkCheckIn, session: SessionDep, principal: WriterDep,
    background: BackgroundTasks,
):
    background.add_task(enqueue_reward_calculation)
    return await service.check_in_bulk(session, event_id, body, principal)


@router.post("/{event_id}/attendance/csv", summary="Check in the attendees of a CSV file",
             response_model=CsvCheckInResult)
async def check_in_csv(
    event_id: RowId,
    file: Annotated[UploadFile, File(description=CSV_HELP)],
    session: SessionDep,
    principal: WriterDep,
    background: BackgroundTasks,
):
    """Rows are matched to members by email, case-insensitively; unknown emails with a name
    become new members. Each row is reported: created, matched, already_checked_in or rejected
    (with the reason)."""
    background.add_task(enqueue_reward_calculation)
    return await service.check_in_csv(session, event_id, file, principal)


@router.get("/{event_id}/attendance", summary="List an event's check-ins",
            response_model=AttendancePage)
async def list_attendance(
    event_id: RowId, session: SessionDep, _: ReaderDep, params: PageDep,
    member_id: Annotated[list[RowId] | None, Query(
        max_length=500, description="Only these members' check-ins (repeat the parameter): "
        "the door screen asks which of the members it found are in.")] = None,
):
    return await service.list_attendance(session, event_id, params, member_ids=member_id)
