"""Events, registration and check-in. A check-in is stored once per person and event
(INSERT … ON CONFLICT DO NOTHING on its unique key), so scanning someone twice changes nothing;
each new check-in records one `event_attended` activity that the worker scores. However many
people a request checks in, the writes are set-based: one multi-row statement per table."""

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from fastapi import UploadFile
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.activities.service import invalid_body
from services.api.auth.principal import Principal
from services.api.errors import ConflictError, NotFoundError, ProblemError
from services.api.events import repository
from services.api.events.attendee_csv import (
    MAX_CSV_BYTES,
    AttendeeRow,
    CsvFormatError,
    parse_attendees,
)
from services.api.events.schemas import (
    AttendanceMethod,
    AttendancePage,
    AttendanceRead,
    BulkCheckIn,
    BulkCheckInItem,
    BulkCheckInResult,
    CheckInResult,
    CheckInStatus,
    CsvCheckInResult,
    CsvRowResult,
    CsvRowStatus,
    EventCancel,
    EventCreate,
    EventFormat,
    EventOrder,
    EventPage,
    EventRead,
    EventStatus,
    EventUpdate,
    FeedbackSummary,
    RegistrationPage,
    RegistrationRead,
)
from services.api.pagination import PageParams, make_page
from shared.activity_queue import insert_activities
from shared.models import Community, Event, EventRegistration, Member
from shared.models.base import utcnow
from shared.models.enums import CommunityKind, MemberStatus
from shared.rules.calendar import local_buckets

# Doors open before the start; earlier than this a check-in is a mistake, not an arrival.
CHECK_IN_OPENS = timedelta(days=1)
ACTIVITY_SOURCE = "hearth-events"
ATTENDED = "event_attended"
START_SORT = "starts_at"
START_SORT_DESC = "starts_at_desc"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_IN_A_ROOM = {EventFormat.in_person, EventFormat.hybrid}
_ONLINE = {EventFormat.online, EventFormat.hybrid}


def _error(field: str, msg: str, type_: str = "value_error") -> dict[str, Any]:
    return {"loc": [field], "msg": msg, "type": type_}


def _refusal(status: str | None) -> str | None:
    """Why a member with this status (None: no such member) cannot take part, if they cannot."""
    if status is None:
        return "member does not exist"
    if status == MemberStatus.banned:
        return "member is banned"
    return None


def _check(event: Event, community: Community) -> None:
    """The rules an event as a whole must meet, on creation and after every change."""
    errors = []
    if event.ends_at <= event.starts_at:
        errors.append(_error("ends_at", "must be after starts_at"))
    if event.format in _IN_A_ROOM and not event.venue:
        errors.append(_error("venue", "is required for in-person and hybrid events"))
    if event.format in _ONLINE and not event.link:
        errors.append(_error("link", "is required for online and hybrid events"))
    if (event.format in _IN_A_ROOM and community.kind == CommunityKind.offline
            and not event.code_of_conduct_url and not community.code_of_conduct_url):
        errors.append(_error(
            "code_of_conduct_url",
            f"is required: community {community.id} is an offline community without a code of "
            "conduct, and people meet in person at this event"))
    if errors:
        raise invalid_body(errors)


async def _community(session: AsyncSession, community_id: int) -> Community:
    community = await session.get(Community, community_id)
    if community is None:
        raise invalid_body([_error("community_id", f"community {community_id} does not exist",
                                   "not_found")])
    return community


async def get_event(session: AsyncSession, event_id: int) -> Event:
    event = await session.get(Event, event_id)
    if event is None:
        raise NotFoundError("Event", event_id)
    return event


def _refuse_if_cancelled(event: Event, refused: str) -> None:
    """A cancelled event is history: nobody registers, checks in or reschedules it any more."""
    if event.status == EventStatus.cancelled:
        raise ProblemError(409, f"Event {event.id} was cancelled on "
                                f"{event.cancelled_at:%Y-%m-%d %H:%M} UTC: {refused}.",
                           type_="event-cancelled")


async def _reads(session: AsyncSession, events: list[Event]) -> list[EventRead]:
    communities = await repository.communities_of(session, {e.community_id for e in events})
    counts = await repository.counts_of(session, [e.id for e in events])
    reads = []
    for event in events:
        community, count = communities[event.community_id], counts[event.id]
        reads.append(EventRead(
            **event.model_dump(), community_name=community.name,
            effective_code_of_conduct_url=event.code_of_conduct_url
            or community.code_of_conduct_url,
            registration_count=count.registrations, attendance_count=count.attendance,
            feedback=FeedbackSummary(count=count.feedback, mean_rating=count.mean_rating)))
    return reads


async def read_event(session: AsyncSession, event_id: int) -> EventRead:
    [read] = await _reads(session, [await get_event(session, event_id)])
    return read


async def create_event(session: AsyncSession, body: EventCreate) -> tuple[int, EventRead]:
    community = await _community(session, body.community_id)
    event = Event(**body.model_dump())
    _check(event, community)
    session.add(event)
    await session.flush()
    return 201, await read_event(session, event.id)


async def update_event(session: AsyncSession, event_id: int, body: EventUpdate) -> EventRead:
    event = await get_event(session, event_id)
    _refuse_if_cancelled(event, "it does not change any more")
    changes = body.model_dump(exclude_unset=True)
    moved = changes.get("starts_at", event.starts_at) != event.starts_at
    if moved and await repository.attendance_count(session, event_id):
        raise ConflictError(f"Event {event_id} has check-ins, recorded as attendance at its "
                            "start; the start cannot move any more.", field="starts_at")
    community = await _community(session, event.community_id)
    event.sqlmodel_update(changes)
    _check(event, community)
    session.add(event)
    await session.flush()
    return await read_event(session, event_id)


async def cancel_event(session: AsyncSession, event_id: int, body: EventCancel) -> EventRead:
    # Under the event's lock, like registration: a registration racing the cancellation either
    # lands before it or is refused after it.
    event = await repository.lock(session, event_id)
    if event is None:
        raise NotFoundError("Event", event_id)
    _refuse_if_cancelled(event, "it cannot be cancelled twice")
    if attended := await repository.attendance_count(session, event_id):
        raise ProblemError(409, f"Event {event_id} took place: {attended} people checked in and "
                                "their attendance counts. It cannot be cancelled.",
                           type_="event-has-attendance", attendance_count=attended)
    event.status, event.cancelled_at = EventStatus.cancelled, utcnow()
    event.cancel_reason = body.reason
    session.add(event)
    await session.flush()
    return await read_event(session, event_id)


class _Position(NamedTuple):
    """Where a page of events in order of start ends; the cursor holds only integers."""

    id: int
    starts_at: int  # microseconds since the epoch


class _PositionLatestFirst(NamedTuple):
    # Its own attribute name is the cursor's sort name, so a cursor of one order is refused by
    # the other instead of skipping rows.
    id: int
    starts_at_desc: int


async def list_events(
    session: AsyncSession, params: PageParams, *, order: EventOrder = EventOrder.asc, **filters
) -> EventPage:
    descending = order == EventOrder.desc
    sort, position = ((START_SORT_DESC, _PositionLatestFirst) if descending
                      else (START_SORT, _Position))
    after = params
    if params.after_key is not None:
        after = params.model_copy(
            update={"after_key": _EPOCH + params.after_key * _MICROSECOND})
    rows = await repository.list_events(session, after, sort=sort, descending=descending,
                                        **filters)
    positions = [position(event.id, (event.starts_at - _EPOCH) // _MICROSECOND)
                 for event in rows]
    kept, cursor = make_page(positions, params, sort=sort)
    return EventPage(items=await _reads(session, rows[:len(kept)]), next_cursor=cursor)


# Registration


def _read_registration(row: tuple[EventRegistration, str, bool]) -> RegistrationRead:
    registration, member_name, checked_in = row
    return RegistrationRead(event_id=registration.event_id, member_id=registration.member_id,
                            member_name=member_name, registered_at=registration.registered_at,
                            checked_in=checked_in)


async def _participant(session: AsyncSession, member_id: int) -> None:
    """Refuses a member who does not exist (422) or is banned (409)."""
    status = (await repository.member_statuses(session, [member_id])).get(member_id)
    if status is None:
        raise invalid_body([_error("member_id", f"member {member_id} does not exist",
                                   "not_found")])
    if status == MemberStatus.banned:
        raise ProblemError(409, f"Member {member_id} is banned and cannot take part in events.",
                           type_="member-banned")


async def register(
    session: AsyncSession, event_id: int, member_id: int
) -> tuple[int, RegistrationRead]:
    """201 for a new registration, 200 when the member was registered already."""
    event = await repository.lock(session, event_id)
    if event is None:
        raise NotFoundError("Event", event_id)
    _refuse_if_cancelled(event, "it takes no registrations")
    await _participant(session, member_id)
    existing = await repository.get_registration(session, event_id, member_id)
    if existing is not None:
        return 200, _read_registration(existing)
    if event.ends_at <= utcnow():
        raise ProblemError(409, f"Event {event_id} is over.", type_="event-over")
    # Under the event's lock: no concurrent registration can slip in between count and insert.
    if (event.capacity is not None
            and await repository.count_registrations(session, event_id) >= event.capacity):
        raise ProblemError(409, f"Event {event_id} is full: all {event.capacity} places are "
                                "taken.", type_="event-full", capacity=event.capacity)
    session.add(EventRegistration(event_id=event_id, member_id=member_id))
    await session.flush()
    return 201, _read_registration(await repository.get_registration(session, event_id,
                                                                     member_id))


async def unregister(session: AsyncSession, event_id: int, member_id: int) -> None:
    await get_event(session, event_id)
    if not await repository.delete_registration(session, event_id, member_id):
        raise NotFoundError(f"Registration to event {event_id} of member", member_id)


async def list_registrations(
    session: AsyncSession, event_id: int, params: PageParams
) -> RegistrationPage:
    await get_event(session, event_id)
    rows = await repository.list_registrations(session, event_id, params)
    items, cursor = make_page([_read_registration(row) for row in rows], params)
    return RegistrationPage(items=items, next_cursor=cursor)


# Check-in


def _read_attendance(row) -> AttendanceRead:
    attendance, member_name = row
    return AttendanceRead(**attendance.model_dump(), member_name=member_name)


async def _open_for_check_in(session: AsyncSession, event_id: int) -> tuple[Event, Community]:
    event = await get_event(session, event_id)
    _refuse_if_cancelled(event, "nobody checks in")
    if utcnow() < event.starts_at - CHECK_IN_OPENS:
        raise ProblemError(409, f"Check-in to event {event_id} opens a day before it starts, "
                                f"at {event.starts_at - CHECK_IN_OPENS:%Y-%m-%d %H:%M} UTC.",
                           type_="check-in-not-open")
    return event, await session.get(Community, event.community_id)


async def _record_check_ins(
    session: AsyncSession,
    event: Event,
    community: Community,
    member_ids: list[int],
    method: AttendanceMethod,
    principal: Principal,
) -> set[int]:
    """Checks in existing members who may take part; returns those checked in now. Each of them
    gets an `event_attended` activity at the event's start and a membership of its community."""
    now = utcnow()
    new = await repository.insert_attendance(session, [
        {"event_id": event.id, "member_id": member_id, "method": method,
         "checked_in_by_id": principal.staff_user_id, "checked_in_at": now}
        for member_id in dict.fromkeys(member_ids)])
    if not new:
        return new
    # Attending makes one a member of the community, from the event on (or from now, for a
    # check-in before the start).
    joined_at = min(event.starts_at, now)
    await repository.insert_memberships(session, [
        {"member_id": member_id, "community_id": community.id, "role": "member",
         "joined_at": joined_at, "created_at": now} for member_id in sorted(new)])
    day, week, month = local_buckets(event.starts_at, community.timezone)
    await insert_activities(session, [
        {"member_id": member_id, "community_id": community.id, "kind": ATTENDED,
         "occurred_at": event.starts_at, "source": ACTIVITY_SOURCE,
         "external_id": f"event:{event.id}:member:{member_id}",
         "properties": {"event_id": event.id}, "local_day": day, "local_week": week,
         "local_month": month, "received_at": now}
        for member_id in sorted(new)])
    return new


async def check_in(
    session: AsyncSession, event_id: int, member_id: int, principal: Principal
) -> tuple[int, CheckInResult]:
    """201 when checked in now, 200 when they had been checked in before (nothing changes)."""
    event, community = await _open_for_check_in(session, event_id)
    await _participant(session, member_id)
    new = await _record_check_ins(session, event, community, [member_id],
                                  AttendanceMethod.single, principal)
    status = CheckInStatus.checked_in if new else CheckInStatus.already_checked_in
    return (201 if new else 200), CheckInResult(
        status=status,
        attendance=_read_attendance(await repository.get_attendance(session, event_id,
                                                                    member_id)),
        attendance_count=await repository.attendance_count(session, event_id))


async def check_in_bulk(
    session: AsyncSession, event_id: int, body: BulkCheckIn, principal: Principal
) -> BulkCheckInResult:
    event, community = await _open_for_check_in(session, event_id)
    statuses = await repository.member_statuses(session, body.member_ids)
    refusals = {member_id: reason for member_id in body.member_ids
                if (reason := _refusal(statuses.get(member_id)))}
    new = await _record_check_ins(
        session, event, community, [m for m in body.member_ids if m not in refusals],
        AttendanceMethod.bulk, principal)
    items, counted = [], set()
    for member_id in body.member_ids:
        if member_id in refusals:
            item = BulkCheckInItem(member_id=member_id, status=CheckInStatus.rejected,
                                   reason=refusals[member_id])
        elif member_id in new and member_id not in counted:
            item = BulkCheckInItem(member_id=member_id, status=CheckInStatus.checked_in)
        else:
            item = BulkCheckInItem(member_id=member_id, status=CheckInStatus.already_checked_in)
        counted.add(member_id)
        items.append(item)
    counts = Counter(item.status for item in items)
    return BulkCheckInResult(
        checked_in=counts[CheckInStatus.checked_in],
        already_checked_in=counts[CheckInStatus.already_checked_in],
        rejected=counts[CheckInStatus.rejected],
        attendance_count=await repository.attendance_count(session, event_id), items=items)


class _Outcome(NamedTuple):
    status: CsvRowStatus
    member_id: int | None
    reason: str | None = None


async def _check_in_people(
    session: AsyncSession,
    event: Event,
    community: Community,
    people: dict[str, AttendeeRow],
    principal: Principal,
) -> dict[str, _Outcome]:
    """Per email key: the member matched or created, and checked in; or why not."""
    found = await repository.members_by_email_key(session, people)
    outcomes = {key: _Outcome(CsvRowStatus.rejected, None,
                              "no member has this email; give a name to create one")
                for key, row in people.items() if key not in found and row.name is None}
    to_create = [row for key, row in people.items() if key not in found and key not in outcomes]
    # The model's defaults, taken once: building a model per row would cost more than the insert.
    defaults = Member(name="").model_dump(exclude={"id", "name"})
    created = await repository.insert_members(session, [
        {**defaults, "name": row.name, "email": row.email, "email_key": row.email_key}
        for row in to_create])
    # Created by someone else meanwhile (the insert skipped them): they exist now, so they match.
    found |= await repository.members_by_email_key(
        session, {row.email_key for row in to_create} - created.keys())
    taking_part = dict(created)
    for key, (member_id, status) in found.items():
        if reason := _refusal(status):
            outcomes[key] = _Outcome(CsvRowStatus.rejected, member_id, reason)
        else:
            taking_part[key] = member_id
    new = await _record_check_ins(session, event, community, list(taking_part.values()),
                                  AttendanceMethod.csv, principal)
    for key, member_id in taking_part.items():
        if key in created:
            outcomes[key] = _Outcome(CsvRowStatus.created, member_id)
        elif member_id in new:
            outcomes[key] = _Outcome(CsvRowStatus.matched, member_id)
        else:
            outcomes[key] = _Outcome(CsvRowStatus.already_checked_in, member_id)
    return outcomes


async def check_in_csv(
    session: AsyncSession, event_id: int, upload: UploadFile, principal: Principal
) -> CsvCheckInResult:
    """Matches rows to members by email (case-insensitive), creates members for unknown emails
    that come with a name, and checks them all in. A bad row is rejected alone; a repeated email
    is the same person."""
    event, community = await _open_for_check_in(session, event_id)
    data = await upload.read(MAX_CSV_BYTES + 1)
    if len(data) > MAX_CSV_BYTES:
        raise ProblemError(413, f"The file is larger than {MAX_CSV_BYTES // 2**20} MB; split it "
                                "into smaller files.", type_="payload-too-large")
    try:
        rows = parse_attendees(data)
    except CsvFormatError as exc:
        raise ProblemError(422, str(exc), type_="invalid-csv") from exc
    people: dict[str, AttendeeRow] = {}
    for row in rows:
        if row.error is None:
            people.setdefault(row.email_key, row)
    outcomes = await _check_in_people(session, event, community, people, principal)

    results = []
    for row in rows:
        if row.error is not None:
            results.append(CsvRowResult(line=row.line, status=CsvRowStatus.rejected,
                                        member_id=None, email=row.email, reason=row.error))
            continue
        first, outcome = people[row.email_key], outcomes[row.email_key]
        if first is not row:
            repeated = (CsvRowStatus.rejected if outcome.status == CsvRowStatus.rejected
                        else CsvRowStatus.already_checked_in)
            outcome = _Outcome(repeated, outcome.member_id,
                               f"the same person as line {first.line}")
        results.append(CsvRowResult(line=row.line, status=outcome.status,
                                    member_id=outcome.member_id, email=row.email,
                                    reason=outcome.reason))
    counts = Counter(result.status for result in results)
    return CsvCheckInResult(
        created=counts[CsvRowStatus.created], matched=counts[CsvRowStatus.matched],
        already_checked_in=counts[CsvRowStatus.already_checked_in],
        rejected=counts[CsvRowStatus.rejected],
        attendance_count=await repository.attendance_count(session, event_id), rows=results)


async def list_attendance(
    session: AsyncSession, event_id: int, params: PageParams, *,
    member_ids: list[int] | None = None,
) -> AttendancePage:
    await get_event(session, event_id)
    rows = await repository.list_attendance(session, event_id, params, member_ids)
    items, cursor = make_page([_read_attendance(row) for row in rows], params)
    return AttendancePage(items=items, next_cursor=cursor)
