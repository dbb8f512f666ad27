"""Events: the list (by community, upcoming or past, pages as htmx fragments), a month calendar,
create and edit, cancel, the detail with attendance and feedback, and the door's check-in screen
(member search, one-click check-in with a live count, CSV upload of attendees)."""

import calendar
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Query, Request

from services.api.communities.schemas import CommunityRead
from services.api.events.schemas import CheckInStatus, EventFormat, EventRead, EventStatus
from web import session
from web.client import ApiClient, ApiError
from web.forms import PAGE_SIZE, FormSpec, FormState, filter_list, submit_form, uploaded_file
from web.rendering import error_page, is_htmx, page_url, redirect, render
from web.session import ApiDep

router = APIRouter(prefix="/events")
WRITE = "events:write"

FILTERS = FormSpec(fields=("community_id", "when", "status"))
WHEN = [("upcoming", "Upcoming"), ("past", "Past"), ("", "Any time")]
EVENT_FORM = FormSpec(
    fields=("community_id", "title", "format", "starts_at", "ends_at", "venue", "link",
            "capacity", "code_of_conduct_url", "description"),
    optional=frozenset({"venue", "link", "capacity", "code_of_conduct_url", "description"}),
)
TIMES = ("starts_at", "ends_at")
# What an edit may change: attendance already recorded belongs to the event's community.
FIXED = ("community_id",)
FORMATS = [(EventFormat.in_person, "In person"), (EventFormat.online, "Online"),
           (EventFormat.hybrid, "Hybrid")]
NEW_EVENT = {"format": EventFormat.in_person}
CANCEL_FORM = FormSpec(fields=("reason",), optional=frozenset({"reason"}))
SEARCH = FormSpec(fields=("q",))
CHECK_IN_FORM = FormSpec(fields=("member_id",))
UPLOAD_FORM = FormSpec(fields=("file",))
# The newest event feedback on the detail page; the summary above it counts all of it.
FEEDBACK_SHOWN = 5
INPUT_MINUTES = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> shows and sends
MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
# A month of events is read whole; the API's largest page keeps that to a request or two.
MONTH_PAGE = 500
UTC_ZONE = ZoneInfo("UTC")
ONE_DAY = timedelta(days=1)


def zone_of(name: str | None) -> ZoneInfo:
    """A community's time zone (the API checked it is an IANA name), else UTC."""
    try:
        return ZoneInfo(name) if name else UTC_ZONE
    except (ZoneInfoNotFoundError, ValueError):
        return UTC_ZONE


class Zones:
    """Event times in their community's local time, which is how organisers plan them."""

    def __init__(self, communities: list[CommunityRead]):
        self._zones = {community.id: zone_of(community.timezone) for community in communities}

    def __call__(self, event: EventRead, value: datetime) -> datetime:
        return value.astimezone(self._zones.get(event.community_id, UTC_ZONE))


async def _communities(api: ApiClient) -> list[CommunityRead]:
    # A few hundred chapters at most: one page of the maximum names them all.
    return (await api.list_communities(limit=500)).items


def _community_choices(communities: list[CommunityRead]) -> list[tuple[str, str]]:
    return [(str(community.id), community.name) for community in communities]


# The list and the calendar


async def _fetch_events(api: ApiClient, *, when: str = "", **filters: Any):
    """`when` is the web's own filter: upcoming events soonest first, past ones latest first."""
    now = datetime.now(UTC).isoformat()
    if when == "upcoming":
        filters.update(start=now)
    elif when == "past":
        filters.update(end=now, order="desc")
    return await api.list_events(**filters)


@router.get("")
async def list_events(request: Request, api: ApiDep):
    if "when" not in request.query_params:
        # What is coming up is what staff look for; "Any" (when=) lists all.
        return redirect(request, page_url(request, when="upcoming"))
    page, filters = await filter_list(request, FILTERS, partial(_fetch_events, api))
    communities = await _communities(api)
    return render(request, "events/list.html",
                  {"page": page, "filters": filters, "when_choices": WHEN,
                   "statuses": list(EventStatus), "local": Zones(communities),
                   "communities": _community_choices(communities)},
                  fragment="results", status_code=filters.status_code)


def _shift_month(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


async def _events_between(api: ApiClient, start: datetime, end: datetime,
                          community_id: int | None) -> list[EventRead]:
    events, cursor = [], None
    while True:
        page = await api.list_events(start=start.isoformat(), end=end.isoformat(),
                                     community_id=community_id, limit=MONTH_PAGE, cursor=cursor)
        events += page.items
        if (cursor := page.next_cursor) is None:
            return events


@router.get("/calendar")
async def month_calendar(
    request: Request, api: ApiDep,
    # Blank is "all communities", as the filter form's first option sends it.
    community_id: Annotated[str, Query(max_length=18, pattern=r"^([1-9][0-9]*)?$")] = "",
    month: Annotated[str | None, Query(pattern=MONTH)] = None,
):
    """A month of one community's events, or of all; each event on its day in its community's
    time zone, which is the day its members see on their calendars."""
    community = await api.get_community(int(community_id)) if community_id else None
    zone = zone_of(community.timezone if community else None)
    first = date.fromisoformat(f"{month}-01") if month else datetime.now(zone).date().replace(
        day=1)
    following = _shift_month(first, 1)
    # A day more on either side: other communities' local days straddle the UTC month's edges.
    events = await _events_between(
        api, datetime.combine(first - ONE_DAY, time(), zone),
        datetime.combine(following + ONE_DAY, time(), zone), community and community.id)
    communities = await _communities(api)
    local = Zones(communities)
    by_day: dict[date, list[EventRead]] = defaultdict(list)
    for event in events:
        day = local(event, event.starts_at).date()
        if first <= day < following:
            by_day[day].append(event)
    return render(request, "events/calendar.html",
                  {"community": community, "zone": zone, "first": first,
                   "weeks": calendar.Calendar().monthdatescalendar(first.year, first.month),
                   "by_day": by_day, "local": local, "today": datetime.now(zone).date(),
                   "previous_month": _shift_month(first, -1), "next_month": following,
                   "communities": _community_choices(communities),
                   "filters": FormState({"community_id": community_id})},
                  fragment="month")


# Create and edit


def _input_time(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime(INPUT_MINUTES)


def _with_offset(value: str, zone: ZoneInfo) -> str:
    """A local time as typed (no offset) in the community's zone, as the API wants it. Anything
    unreadable goes as typed, so the API's refusal names the field."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).isoformat()


def _event_body(body: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    return {**body, **{name: _with_offset(body[name], zone) for name in TIMES}}


async def _form_page(request: Request, form: FormState, communities: list[CommunityRead],
                     event: EventRead | None = None):
    chosen = event.community_id if event else form.values.get("community_id")
    return render(request, "events/form.html",
                  {"form": form, "event": event, "formats": FORMATS,
                   "zone": _zone_in(communities, chosen) if chosen else None,
                   "communities": [("", "Choose a community"),
                                   *_community_choices(communities)]},
                  status_code=form.status_code)


def _zone_in(communities: list[CommunityRead], community_id: Any) -> ZoneInfo:
    """The time zone of a community chosen on a form; UTC when the choice is not one of them
    (the API then refuses the community, by name)."""
    return next((zone_of(c.timezone) for c in communities if str(c.id) == str(community_id)),
                UTC_ZONE)


@router.get("/new")
async def new_event(request: Request, api: ApiDep):
    session.require_permission(request, WRITE)
    chosen = {"community_id": request.query_params.get("community_id", "")}
    return await _form_page(request, FormState({**NEW_EVENT, **chosen}), await _communities(api))


@router.post("/new")
async def create_event(request: Request, api: ApiDep):
    communities = await _communities(api)

    async def create(body: dict[str, Any]) -> EventRead:
        return await api.create_event(_event_body(body, _zone_in(communities,
                                                                 body["community_id"])))

    event, form = await submit_form(request, EVENT_FORM, create)
    if event is None:
        return await _form_page(request, form, communities)
    session.flash(request, f"Event “{event.title}” created.")
    return redirect(request, f"/events/{event.id}")


async def _event_and_zone(api: ApiClient, event_id: int) -> tuple[EventRead, ZoneInfo]:
    event = await api.get_event(event_id)
    return event, zone_of((await api.get_community(event.community_id)).timezone)


@router.get("/{event_id}/edit")
async def edit_event(request: Request, api: ApiDep, event_id: int):
    session.require_permission(request, WRITE)
    event, zone = await _event_and_zone(api, event_id)
    values = EVENT_FORM.values_of(event)
    values.update({name: _input_time(getattr(event, name), zone) for name in TIMES})
    return await _form_page(request, FormState(values), await _communities(api), event)


@router.post("/{event_id}/edit")
async def update_event(request: Request, api: ApiDep, event_id: int):
    event, zone = await _event_and_zone(api, event_id)

    async def update(body: dict[str, Any]) -> EventRead:
        body = _event_body(body, zone)
        for name in FIXED:
            body.pop(name)
        return await api.update_event(event_id, body)

    updated, form = await submit_form(request, EVENT_FORM, update)
    if updated is None:
        return await _form_page(request, form, await _communities(api), event)
    session.flash(request, "Changes saved.")
    return redirect(request, f"/events/{event_id}")


# Detail and cancellation


async def _detail_page(request: Request, api: ApiClient, event_id: int,
                       cancel_form: FormState | None = None):
    event, zone = await _event_and_zone(api, event_id)
    feedback = await api.list_feedback(event_id=event_id, kind="event", limit=FEEDBACK_SHOWN)
    cancel_form = cancel_form or FormState()
    return render(request, "events/detail.html",
                  {"event": event, "zone": zone, "feedback": feedback.items,
                   "cancel_form": cancel_form},
                  status_code=cancel_form.status_code)


@router.get("/{event_id}")
async def event_detail(request: Request, api: ApiDep, event_id: int):
    return await _detail_page(request, api, event_id)


@router.post("/{event_id}/cancel")
async def cancel_event(request: Request, api: ApiDep, event_id: int):
    cancelled, form = await submit_form(request, CANCEL_FORM, partial(api.cancel_event, event_id))
    if cancelled is None:
        return await _detail_page(request, api, event_id, form)
    session.flash(request, f"“{cancelled.title}” is cancelled: it takes no registrations or "
                           "check-ins any more.")
    return redirect(request, f"/events/{event_id}")


# Check-in at the door


async def _check_in_page(request: Request, api: ApiClient, event_id: int, *,
                         csv_form: FormState | None = None, csv_result=None):
    """The search's results are its own fragment: htmx asks for them as the name is typed."""
    session.require_permission(request, WRITE)
    event, zone = await _event_and_zone(api, event_id)
    search = SEARCH.read(request.query_params)
    found, checked_in = None, set()
    if search["q"]:
        found = await api.list_members(q=search["q"], limit=PAGE_SIZE)
        checked_in = await api.checked_in_among(event_id, [member.id for member in found.items])
    csv_form = csv_form or FormState()
    return render(request, "events/check_in.html",
                  {"event": event, "event_id": event_id, "zone": zone, "search": search,
                   "found": found, "checked_in": checked_in,
                   "csv_form": csv_form, "csv_result": csv_result,
                   # Filled only in the answers to a check-in or an upload.
                   "notice": None, "refused": False, "count": None},
                  fragment="found", status_code=csv_form.status_code)


@router.get("/{event_id}/check-in")
async def check_in_page(request: Request, api: ApiDep, event_id: int):
    return await _check_in_page(request, api, event_id)


CHECK_IN_NOTICES = {CheckInStatus.checked_in: "Checked in.",
                    CheckInStatus.already_checked_in: "Already checked in: nothing changed."}


@router.post("/{event_id}/check-in")
async def check_in(request: Request, api: ApiDep, event_id: int):
    """One member, from the search results. htmx gets that member's row back with the outcome,
    and the page's attendance count alongside (swapped out of band)."""
    values = CHECK_IN_FORM.read(await request.form())
    if not values["member_id"].isdigit():
        return error_page(request, 422, "The request was refused", "Choose a member to check in.")
    member_id = int(values["member_id"])
    count, refused = None, FormState()
    try:
        result = await api.check_in(event_id, member_id)
        notice, count = CHECK_IN_NOTICES[result.status], result.attendance_count
    except ApiError as error:
        refused = FormState.refused(CHECK_IN_FORM, values, error)
        notice = " ".join(refused.errors.values())
    if not is_htmx(request):
        session.flash(request, notice)
        return redirect(request, session.local_path(
            request.headers.get("Referer") or f"/events/{event_id}/check-in"))
    return render(request, "events/check_in.html",
                  {"event_id": event_id, "member": await api.get_member(member_id),
                   "checked_in": set() if refused.errors else {member_id},
                   "notice": notice, "refused": bool(refused.errors), "count": count},
                  fragment="member_row", status_code=refused.status_code)


@router.post("/{event_id}/attendees")
async def upload_attendees(request: Request, api: ApiDep, event_id: int):
    """The API checks a CSV in synchronously (5,000 rows at most): the answer is the per-row
    result, shown at once; htmx also gets the new attendance count."""
    try:
        result = await api.check_in_csv(event_id, *await uploaded_file(request))
    except ApiError as error:
        form = FormState.refused(UPLOAD_FORM, {}, error)
        if is_htmx(request):
            return render(request, "events/check_in.html",
                          {"csv_form": form, "csv_result": None, "count": None},
                          fragment="csv_result", status_code=form.status_code)
        return await _check_in_page(request, api, event_id, csv_form=form)
    if is_htmx(request):
        return render(request, "events/check_in.html",
                      {"csv_form": FormState(), "csv_result": result,
                       "count": result.attendance_count}, fragment="csv_result")
    return await _check_in_page(request, api, event_id, csv_result=result)
