"""Event pages through the real API: the list (filters, upcoming/past, pages as fragments), the
month calendar, create and edit with the API's errors in place, cancel, the check-in screen
(search, one-click check-in with the live count) and the attendee CSV upload."""

import re
from datetime import timedelta

from shared.models import Event, EventAttendance, Member
from tests.api.advocacy import count_rows, make_member
from tests.api.test_events import event_body, make_community, make_event
from tests.web.test_communities import field_error

HTMX = {"HX-Request": "true"}
FORM = {"title": "PyData Berlin #42", "format": "in_person", "starts_at": "2031-01-15T19:00",
        "ends_at": "2031-01-15T21:30", "venue": "Factory Berlin", "link": "", "capacity": "80",
        "code_of_conduct_url": "", "description": "On-device ML"}


def titles_in(html: str) -> list[str]:
    return re.findall(r'<a href="/events/\d+">([^<]+)</a>', html)


def day_cell(html: str, day: str) -> str:
    found = re.search(rf'<td[^>]*data-day="{day}">(.*?)</td>', html, re.S)
    assert found, day
    return found.group(1)


def attendance_count(html: str) -> str:
    return re.search(r'<strong id="attendance-count"[^>]*>(\d+)</strong>', html).group(1)


async def test_list_upcoming_and_past_by_community_and_status(web, client):
    h = web.staff["headers"]
    berlin = await make_community(client, h, name="PyData Berlin")
    lagos = await make_community(client, h, name="Rust Lagos")
    for days, community, title in ((3, berlin, "Soon in Berlin"), (1, lagos, "Tomorrow in Lagos"),
                                   (-2, berlin, "Last week"), (-5, berlin, "Long ago")):
        await make_event(client, h, community["id"], starts_in=timedelta(days=days), title=title)
    cancelled = await make_event(client, h, lagos["id"], starts_in=timedelta(days=2),
                                 title="Called off")
    assert (await client.post(f"/v1/events/{cancelled['id']}/cancel", headers=h)).status_code \
        == 200

    bare = await web.get("/events")
    assert bare.status_code == 303 and bare.headers["location"] == "/events?when=upcoming"
    upcoming = await web.get("/events?when=upcoming")
    assert upcoming.status_code == 200 and "HX-Request" in upcoming.headers["vary"]
    assert titles_in(upcoming.text) == ["Tomorrow in Lagos", "Called off", "Soon in Berlin"]
    assert "badge-cancelled" in upcoming.text
    past = await web.get("/events?when=past", headers=HTMX)
    assert past.text.lstrip().startswith('<section id="results"') and "<html" not in past.text
    assert titles_in(past.text) == ["Last week", "Long ago"]  # the latest first
    everything = await web.get("/events?when=")
    assert titles_in(everything.text) == ["Long ago", "Last week", "Tomorrow in Lagos",
                                          "Called off", "Soon in Berlin"]

    in_lagos = await web.get(f"/events?when=upcoming&community_id={lagos['id']}")
    assert titles_in(in_lagos.text) == ["Tomorrow in Lagos", "Called off"]
    assert f'<option value="{lagos["id"]}" selected>Rust Lagos</option>' in in_lagos.text
    assert f'href="/events/calendar?community_id={lagos["id"]}"' in in_lagos.text
    scheduled = await web.get(f"/events?when=upcoming&community_id={lagos['id']}"
                              "&status=scheduled")
    assert titles_in(scheduled.text) == ["Tomorrow in Lagos"]
    assert titles_in((await web.get("/events?when=&status=cancelled")).text) == ["Called off"]

    refused = await web.get("/events?when=upcoming&community_id=abc", headers=HTMX)
    assert refused.status_code == 422 and "Community id:" in refused.text
    nothing = await web.get("/events?when=upcoming&community_id=999999")
    assert nothing.status_code == 200 and "No events here." in nothing.text


async def test_cursor_pages_link_to_each_other(web, client):
    from web.forms import PAGE_SIZE

    h = web.staff["headers"]
    community = await make_community(client, h)
    for number in range(PAGE_SIZE + 2):
        await make_event(client, h, community["id"], title=f"Meetup {number:02}",
                         starts_in=timedelta(days=1, hours=number))
    first = await web.get("/events?when=upcoming")
    assert "Meetup 00" in first.text and f"Meetup {PAGE_SIZE:02}" not in first.text
    next_url = re.search(r'<a class="next" href="([^"]+)"', first.text).group(1).replace(
        "&amp;", "&")
    second = await web.get(next_url, headers=HTMX)
    assert second.text.lstrip().startswith('<section id="results"')
    assert titles_in(second.text) == [f"Meetup {PAGE_SIZE:02}", f"Meetup {PAGE_SIZE + 1:02}"]
    assert "First page" in second.text and 'class="next"' not in second.text


async def test_month_calendar_in_the_community_time_zone(web, client):
    h = web.staff["headers"]
    auckland = await make_community(client, h, name="Auckland Gophers",
                                    timezone="Pacific/Auckland")
    # 8:00 on 1 April in Auckland is still 31 March in UTC: the calendar shows Auckland's day.
    morning = {**event_body(auckland["id"]), "title": "Breakfast talk",
               "starts_at": "2031-04-01T08:00:00+13:00", "ends_at": "2031-04-01T09:00:00+13:00"}
    assert (await client.post("/v1/events", json=morning, headers=h)).status_code == 201
    late = {**morning, "title": "Late social", "starts_at": "2031-04-30T21:00:00+12:00",
            "ends_at": "2031-04-30T23:00:00+12:00"}
    late_event = (await client.post("/v1/events", json=late, headers=h)).json()
    await client.post(f"/v1/events/{late_event['id']}/cancel", headers=h)
    elsewhere = await make_community(client, h, name="Elsewhere")
    other = {**event_body(elsewhere["id"]), "title": "Not here",
             "starts_at": "2031-04-10T19:00:00+00:00", "ends_at": "2031-04-10T21:00:00+00:00"}
    await client.post("/v1/events", json=other, headers=h)

    april = await web.get(f"/events/calendar?community_id={auckland['id']}&month=2031-04")
    assert april.status_code == 200
    assert "April 2031 · Auckland Gophers" in april.text and "Pacific/Auckland" in april.text
    assert "08:00" in day_cell(april.text, "2031-04-01")
    assert "Breakfast talk" in day_cell(april.text, "2031-04-01")
    assert "Late social" in day_cell(april.text, "2031-04-30")
    assert "(cancelled)" in day_cell(april.text, "2031-04-30")
    assert "Not here" not in april.text
    march = await web.get(f"/events/calendar?community_id={auckland['id']}&month=2031-03",
                          headers=HTMX)
    assert march.text.lstrip().startswith('<section id="month"') and "<html" not in march.text
    assert "Breakfast talk" not in march.text
    assert "month=2031-02" in march.text and "month=2031-04" in march.text

    overall = await web.get("/events/calendar?community_id=&month=2031-04")
    assert "Breakfast talk" in day_cell(overall.text, "2031-04-01")
    assert "Not here" in day_cell(overall.text, "2031-04-10")
    assert "Auckland Gophers" in overall.text
    for bad in ("month=2031-13", "month=april", "community_id=0"):
        assert (await web.get(f"/events/calendar?{bad}")).status_code == 404, bad
    assert (await web.get("/events/calendar?community_id=999999")).status_code == 404


async def test_create_shows_api_errors_next_to_fields_and_keeps_input(web, client):
    h = web.staff["headers"]
    community = await make_community(client, h, name="PyData Berlin", timezone="Europe/Berlin")
    form = await web.get(f"/events/new?community_id={community['id']}")
    assert f'<option value="{community["id"]}" selected>PyData Berlin</option>' in form.text
    assert "Europe/Berlin" in form.text

    values = {**FORM, "community_id": str(community["id"])}
    # The API checks the fields first, then the event as a whole.
    bad_field = await web.post("/events/new", {**values, "capacity": "0", "starts_at": "soon"})
    assert bad_field.status_code == 422
    assert "greater than or equal to 1" in field_error(bad_field.text, "capacity")
    assert "valid datetime" in field_error(bad_field.text, "starts_at")
    refused = await web.post("/events/new", {**values, "ends_at": "2031-01-15T18:00",
                                              "venue": ""})
    assert refused.status_code == 422
    assert field_error(refused.text, "ends_at") == "must be after starts_at"
    assert "required for in-person" in field_error(refused.text, "venue")
    assert field_error(refused.text, "title") is None
    assert 'value="PyData Berlin #42"' in refused.text
    assert 'value="2031-01-15T18:00"' in refused.text
    no_community = await web.post("/events/new", {**values, "community_id": ""})
    assert no_community.status_code == 422 and field_error(no_community.text, "community_id")
    assert await count_rows(Event) == 0

    created = await web.post("/events/new", values)
    assert created.status_code == 303, created.text
    detail = await web.get(created.headers["location"])
    assert "Event “PyData Berlin #42” created." in detail.text
    assert "Wed 15 Jan 2031, 19:00" in detail.text and "21:30 CET" in detail.text
    [stored] = (await client.get("/v1/events", headers=h)).json()["items"]
    # Typed as Berlin's local time: 19:00 in January is 18:00 UTC.
    assert stored["starts_at"] == "2031-01-15T18:00:00Z" and stored["capacity"] == 80
    assert stored["link"] is None and stored["description"] == "On-device ML"


async def test_edit_prefills_local_times_and_saves(web, client):
    h = web.staff["headers"]
    community = await make_community(client, h, timezone="Europe/Berlin")
    body = {**event_body(community["id"]), "starts_at": "2031-07-01T17:00:00Z",
            "ends_at": "2031-07-01T19:00:00Z"}
    event = (await client.post("/v1/events", json=body, headers=h)).json()
    form = await web.get(f"/events/{event['id']}/edit")
    assert 'value="2031-07-01T19:00"' in form.text  # summer time in Berlin
    assert 'name="community_id"' not in form.text  # an event stays in its community

    values = {**FORM, "starts_at": "2031-07-01T19:30", "ends_at": "2031-07-01T22:00",
              "title": "Summer meetup", "capacity": ""}
    refused = await web.post(f"/events/{event['id']}/edit", {**values, "title": ""})
    assert refused.status_code == 422
    assert "at least 1 character" in field_error(refused.text, "title")
    saved = await web.post(f"/events/{event['id']}/edit", values)
    assert saved.status_code == 303
    stored = (await client.get(f"/v1/events/{event['id']}", headers=h)).json()
    assert stored["title"] == "Summer meetup" and stored["capacity"] is None
    assert stored["starts_at"] == "2031-07-01T17:30:00Z"


async def test_detail_shows_counts_and_feedback(web, client):
    h = web.staff["headers"]
    event = await make_event(client, h, starts_in=timedelta(hours=-1), capacity=40)
    ada, bob = await make_member("Ada"), await make_member("Bob")
    await client.post(f"/v1/events/{event['id']}/registrations", json={"member_id": ada},
                      headers=h)
    await client.post(f"/v1/events/{event['id']}/attendance", json={"member_id": ada},
                      headers=h)
    for member_id, rating, comment in ((ada, 5, "Great talks"), (bob, 2, "Too crowded")):
        sent = await client.post("/v1/feedback", headers=h, json={
            "kind": "event", "event_id": event["id"], "member_id": member_id, "rating": rating,
            "body": comment})
        assert sent.status_code == 201, sent.text
    detail = await web.get(f"/events/{event['id']}")
    assert re.search(r"<strong>1</strong>registered of 40", detail.text)
    assert attendance_count(detail.text) == "1"
    assert "<strong>2</strong>feedback" in detail.text
    assert "<strong>3.5</strong>mean rating" in detail.text
    assert "Great talks" in detail.text and "Too crowded" in detail.text
    assert f'href="/events/{event["id"]}/check-in"' in detail.text
    assert (await web.get("/events/999999")).status_code == 404


async def test_cancel_from_the_detail_page(web, client):
    h = web.staff["headers"]
    event = await make_event(client, h)
    too_long = await web.post(f"/events/{event['id']}/cancel", {"reason": "x" * 501})
    assert too_long.status_code == 422 and field_error(too_long.text, "reason")
    assert (await client.get(f"/v1/events/{event['id']}", headers=h)).json()[
        "status"] == "scheduled"

    cancelled = await web.post(f"/events/{event['id']}/cancel", {"reason": "The venue closed"})
    assert cancelled.status_code == 303
    detail = await web.get(cancelled.headers["location"])
    assert "is cancelled: it takes no registrations" in detail.text
    assert "The venue closed" in detail.text and "badge-cancelled" in detail.text
    assert "/check-in" not in detail.text and "/edit" not in detail.text
    assert "Cancel the event" not in detail.text

    again = await web.post(f"/events/{event['id']}/cancel", {"reason": ""})
    assert again.status_code == 409 and "cannot be cancelled twice" in again.text
    door = await web.get(f"/events/{event['id']}/check-in")
    assert "This event was cancelled: nobody checks in." in door.text
    assert "Find a member" not in door.text


async def test_check_in_twice_counts_once_and_updates_the_count(web, client):
    h = web.staff["headers"]
    event = await make_event(client, h)
    ada = await make_member("Ada Lovelace")
    await make_member("Grace Hopper")
    banned = await make_member("Ada Banned", status="banned")
    path = f"/events/{event['id']}/check-in"

    page = await web.get(path)
    assert attendance_count(page.text) == "0" and "Type a name" in page.text
    assert 'hx-trigger="input changed delay:300ms, search"' in page.text
    found = await web.get(f"{path}?q=ada", headers=HTMX)
    assert found.text.lstrip().startswith('<section id="found"') and "<html" not in found.text
    assert "Check in Ada Lovelace" in found.text and "Check in Ada Banned" in found.text
    assert "Grace Hopper" not in found.text
    assert "No members match." in (await web.get(f"{path}?q=zzz", headers=HTMX)).text

    first = await web.post(path, {"member_id": str(ada)}, headers=HTMX)
    assert first.status_code == 200
    assert first.text.lstrip().startswith(f'<li id="member-{ada}"')
    assert "Checked in." in first.text
    assert '<strong id="attendance-count" hx-swap-oob="true">1</strong>' in first.text
    assert "Checked in ✓" in first.text
    # A new search marks who is already in, and only them.
    marked = (await web.get(f"{path}?q=ada", headers=HTMX)).text
    rows = {int(row.group(1)): row.group(0)
            for row in re.finditer(r'<li id="member-(\d+)".*?</li>', marked, re.S)}
    assert "Checked in ✓" in rows[ada] and "Checked in ✓" not in rows[banned]
    again = await web.post(path, {"member_id": str(ada)}, headers=HTMX)
    assert "Already checked in: nothing changed." in again.text
    assert '<strong id="attendance-count" hx-swap-oob="true">1</strong>' in again.text

    refused = await web.post(path, {"member_id": str(banned)}, headers=HTMX)
    assert refused.status_code == 409 and "is banned" in refused.text
    assert "Checked in ✓" not in refused.text
    assert "hx-swap-oob" not in refused.text  # the count did not change
    tampered = await web.post(path, {"member_id": "ada"}, headers=HTMX)
    assert tampered.status_code == 422

    # Without JavaScript: back to the search, the outcome as the page's notice.
    plain = await web.post(path, {"member_id": str(ada)}, headers={"Referer": f"{path}?q=ada"})
    assert plain.status_code == 303 and plain.headers["location"] == f"{path}?q=ada"
    assert "Already checked in: nothing changed." in (await web.get(
        plain.headers["location"])).text
    assert await count_rows(EventAttendance) == 1
    assert (await client.get(f"/v1/events/{event['id']}", headers=h)).json()[
        "attendance_count"] == 1


ATTENDEES = ("name,email\n"
             "Ada Lovelace,ADA@example.org\n"
             "New Person,new@example.org\n"
             "Broken,not-an-email\n"
             ",nobody@example.org\n"
             "Ada again,ada@example.org\n")


async def test_csv_upload_shows_each_row(web, client):
    h = web.staff["headers"]
    event = await make_event(client, h)
    ada = await client.post("/v1/members", json={"name": "Ada Lovelace",
                                                 "email": "ada@example.org"}, headers=h)
    assert ada.status_code == 201, ada.text
    path = f"/events/{event['id']}/attendees"
    files = {"file": ("attendees.csv", ATTENDEES.encode(), "text/csv")}

    result = await web.http.post(path, data={"csrf_token": web.csrf}, files=files,
                                 headers=HTMX)
    assert result.status_code == 200, result.text
    assert result.text.lstrip().startswith('<div id="csv-result"')
    counts = dict((label, int(n)) for n, label in re.findall(
        r"<strong>(\d+)</strong>([a-z ]+)</li>", result.text))
    assert counts == {"new members": 1, "members checked in": 1, "already checked in": 1,
                      "rejected": 2}
    rows = re.findall(r'<td data-label="Line">(\d+)</td>\s*<td data-label="Email">([^<]*)</td>'
                      r'\s*<td data-label="Result">([^<]*)</td>\s*<td data-label="Why">([^<]*)',
                      result.text)
    assert [(line, status) for line, _, status, _ in rows] == [
        ("2", "matched"), ("3", "created"), ("4", "rejected"), ("5", "rejected"),
        ("6", "already checked in")]
    assert "not a valid email address" in rows[2][3]
    assert "give a name to create one" in rows[3][3]
    assert "the same person as line 2" in rows[4][3]
    assert '<strong id="attendance-count" hx-swap-oob="true">2</strong>' in result.text

    plain = await web.http.post(path, data={"csrf_token": web.csrf}, files=files)
    assert plain.status_code == 200 and "<html" in plain.text
    assert attendance_count(plain.text) == "2"  # nothing new the second time
    assert "<strong>3</strong>already checked in" in plain.text

    broken = await web.http.post(path, data={"csrf_token": web.csrf}, headers=HTMX, files={
        "file": ("a.csv", b"who,where\nAda,Berlin\n", "text/csv")})
    assert broken.status_code == 422 and "at least `email`" in broken.text
    assert await count_rows(EventAttendance) == 2
    assert await count_rows(Member) == 2


async def test_viewers_read_but_are_refused_every_change(open_web, client, admin):
    h = admin["headers"]
    event = await make_event(client, h)
    member_id = await make_member("Ada")
    viewer = await open_web("viewer")
    listing = await viewer.get("/events?when=upcoming")
    assert event["title"] in listing.text and "New event" not in listing.text
    detail = await viewer.get(f"/events/{event['id']}")
    assert detail.status_code == 200
    for hidden in ("/edit", "/check-in", "Cancel the event"):
        assert hidden not in detail.text
    calendar = await viewer.get("/events/calendar")
    assert calendar.status_code == 200 and "New event" not in calendar.text

    for url in ("/events/new", f"/events/{event['id']}/edit", f"/events/{event['id']}/check-in"):
        page = await viewer.get(url)
        assert page.status_code == 403 and "You do not have permission" in page.text, url
    posts = {
        "/events/new": {**FORM, "community_id": str(event["community_id"])},
        f"/events/{event['id']}/edit": FORM,
        f"/events/{event['id']}/cancel": {"reason": "no"},
        f"/events/{event['id']}/check-in": {"member_id": str(member_id)},
    }
    for url, data in posts.items():
        posted = await viewer.post(url, data, headers=HTMX)
        assert posted.status_code == 403 and "You do not have permission" in posted.text, url
    uploaded = await viewer.http.post(
        f"/events/{event['id']}/attendees", data={"csrf_token": viewer.csrf},
        files={"file": ("a.csv", b"name,email\nBo,bo@example.org\n", "text/csv")})
    assert uploaded.status_code == 403
    # Nothing changed, and a post without the session's CSRF token is refused before the API.
    assert await count_rows(Event) == 1 and await count_rows(EventAttendance) == 0
    assert (await client.get(f"/v1/events/{event['id']}", headers=h)).json() == event
    forged = await viewer.http.post(f"/events/{event['id']}/cancel", data={"reason": "x"})
    assert forged.status_code == 403 and "This form has expired" in forged.text
    anonymous = await open_web(None)
    assert (await anonymous.get("/events?when=upcoming")).status_code == 303
