"""Events: validation, the code-of-conduct rule, listing, registration with capacity, and who may
do what. Check-in has tests of its own (test_attendance.py)."""

import asyncio
import itertools
import os
from collections import Counter
from datetime import timedelta

import pytest

from shared.db import session_scope
from shared.models import Event, EventRegistration, Member
from shared.models.base import utcnow
from tests.api.advocacy import count_rows, make_member

_serial = itertools.count(1)


async def make_community(client, headers, **fields) -> dict:
    n = next(_serial)
    body = {"name": f"Chapter {n}", "slug": f"chapter-{n}", "kind": "offline",
            "timezone": "Europe/Berlin", "code_of_conduct_url": "https://example.org/coc",
            **fields}
    response = await client.post("/v1/communities", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def event_body(community_id: int, *, starts_in: timedelta = timedelta(hours=2),
               hours: int = 2, **fields) -> dict:
    starts_at = (utcnow() + starts_in).replace(microsecond=0)
    return {"community_id": community_id, "title": "Monthly meetup",
            "starts_at": starts_at.isoformat(),
            "ends_at": (starts_at + timedelta(hours=hours)).isoformat(),
            "format": "in_person", "venue": "Factory, Berlin", **fields}


async def make_event(client, headers, community_id: int | None = None, **fields) -> dict:
    if community_id is None:
        community_id = (await make_community(client, headers))["id"]
    response = await client.post("/v1/events", json=event_body(community_id, **fields),
                                 headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_read_and_update(client, admin):
    h = admin["headers"]
    community = await make_community(client, h)
    created = await make_event(client, h, community["id"], capacity=80,
                               starts_in=timedelta(days=3))
    assert created["community_name"] == community["name"]
    assert created["code_of_conduct_url"] is None
    assert created["effective_code_of_conduct_url"] == "https://example.org/coc"
    assert created["registration_count"] == created["attendance_count"] == 0
    assert created["feedback"] == {"count": 0, "mean_rating": None}
    fetched = await client.get(f"/v1/events/{created['id']}", headers=h)
    assert fetched.json() == created

    updated = await client.patch(f"/v1/events/{created['id']}",
                                 json={"capacity": 120, "title": "Special meetup"}, headers=h)
    assert updated.status_code == 200, updated.text
    assert updated.json()["capacity"] == 120 and updated.json()["title"] == "Special meetup"
    assert updated.json()["starts_at"] == created["starts_at"]


async def test_times_are_stored_in_utc(client, admin):
    community = await make_community(client, admin["headers"])
    body = {**event_body(community["id"]), "starts_at": "2031-03-05T19:00:00+01:00",
            "ends_at": "2031-03-05T21:00:00+01:00"}
    created = await client.post("/v1/events", json=body, headers=admin["headers"])
    assert created.status_code == 201, created.text
    assert created.json()["starts_at"] == "2031-03-05T18:00:00Z"


@pytest.mark.parametrize(("change", "field"), [
    ({"hours": 0}, "ends_at"),
    ({"hours": -1}, "ends_at"),
    ({"starts_at": "2031-03-05T19:00:00"}, "starts_at"),  # no offset
    ({"format": "virtual"}, "format"),
    ({"venue": None}, "venue"),
    ({"format": "online", "venue": None}, "link"),
    ({"format": "hybrid", "link": "https://meet.example.org/x"}, None),
    ({"capacity": 0}, "capacity"),
    ({"link": "ftp://example.org"}, "link"),
    ({"title": "x" * 201}, "title"),
    ({"community_id": 999_999}, "community_id"),
    ({"organiser": "me"}, "organiser"),
])
async def test_bad_events_are_refused_and_leave_nothing(client, admin, change, field):
    community = await make_community(client, admin["headers"])
    body = event_body(community["id"], hours=change.pop("hours", 2))
    body.update(change)
    response = await client.post("/v1/events", json=body, headers=admin["headers"])
    if field is None:
        # A hybrid event with both a venue and a link is fine: the control case.
        assert response.status_code == 201, response.text
        return
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["loc"][-1] for error in response.json()["errors"]]
    assert await count_rows(Event) == 0


async def test_in_person_events_of_offline_communities_need_a_code_of_conduct(client, admin):
    h = admin["headers"]
    without = await make_community(client, h, code_of_conduct_url=None)
    refused = await client.post("/v1/events", json=event_body(without["id"]), headers=h)
    assert refused.status_code == 422
    assert "code_of_conduct_url" in refused.json()["detail"]
    assert "offline community without a code of conduct" in refused.json()["detail"]
    hybrid = await client.post("/v1/events", json=event_body(
        without["id"], format="hybrid", link="https://meet.example.org/x"), headers=h)
    assert hybrid.status_code == 422
    assert await count_rows(Event) == 0

    own = await make_event(client, h, without["id"],
                           code_of_conduct_url="https://example.org/event-coc")
    assert own["effective_code_of_conduct_url"] == "https://example.org/event-coc"
    online = await make_event(client, h, without["id"], format="online", venue=None,
                              link="https://meet.example.org/x")
    assert online["effective_code_of_conduct_url"] is None
    online_community = await make_community(client, h, kind="online", code_of_conduct_url=None)
    await make_event(client, h, online_community["id"])
    # Taking the event's own code away again is checked like a new event.
    dropped = await client.patch(f"/v1/events/{own['id']}", json={"code_of_conduct_url": None},
                                 headers=h)
    assert dropped.status_code == 422


async def test_updates_are_checked_as_a_whole_and_refusals_change_nothing(client, admin):
    h = admin["headers"]
    event = await make_event(client, h)
    path = f"/v1/events/{event['id']}"
    earlier = (utcnow() - timedelta(days=1)).isoformat()
    for body in ({"ends_at": earlier}, {"format": "online"}, {"title": None},
                 {"starts_at": None}, {"community_id": 3}):
        response = await client.patch(path, json=body, headers=h)
        assert response.status_code == 422, body
    assert (await client.get(path, headers=h)).json() == event
    assert (await client.patch("/v1/events/999999", json={"title": "x"},
                               headers=h)).status_code == 404


async def test_list_in_order_of_start_with_filters_and_cursor(client, admin):
    h = admin["headers"]
    berlin = await make_community(client, h)
    lagos = await make_community(client, h)
    # Created out of order; two start at the same moment.
    days = [5, 1, 3, 3, 2, 4]
    for i, day in enumerate(days):
        await make_event(client, h, berlin["id"] if i % 2 == 0 else lagos["id"],
                         starts_in=timedelta(days=day), title=f"Day {day} #{i}")
    await make_event(client, h, berlin["id"], format="online", venue=None,
                     link="https://meet.example.org/x", starts_in=timedelta(days=6),
                     title="Online")

    async def titles(**params) -> list[str]:
        seen, cursor = [], None
        while True:
            page = await client.get("/v1/events", params={**params, "limit": 2,
                                                          **({"cursor": cursor} if cursor else {})},
                                    headers=h)
            assert page.status_code == 200, page.text
            seen += [event["title"] for event in page.json()["items"]]
            cursor = page.json()["next_cursor"]
            if cursor is None:
                return seen

    assert await titles() == ["Day 1 #1", "Day 2 #4", "Day 3 #2", "Day 3 #3", "Day 4 #5",
                              "Day 5 #0", "Online"]
    assert await titles(community_id=lagos["id"]) == ["Day 1 #1", "Day 3 #3", "Day 4 #5"]
    assert await titles(format="online") == ["Online"]
    window = {"start": (utcnow() + timedelta(days=2, hours=1)).isoformat(),
              "end": (utcnow() + timedelta(days=4, hours=3)).isoformat()}
    assert await titles(**window) == ["Day 3 #2", "Day 3 #3", "Day 4 #5"]
    bad = await client.get("/v1/events", params={"cursor": "not-a-cursor"}, headers=h)
    assert bad.status_code == 422


async def test_registration_respects_capacity_and_counts_once(client, admin):
    h = admin["headers"]
    event = await make_event(client, h, capacity=2)
    path = f"/v1/events/{event['id']}/registrations"
    ada, bob, cy = [await make_member(name) for name in ("Ada", "Bob", "Cy")]

    first = await client.post(path, json={"member_id": ada}, headers=h)
    assert first.status_code == 201, first.text
    assert first.json()["member_name"] == "Ada" and first.json()["checked_in"] is False
    again = await client.post(path, json={"member_id": ada}, headers=h)
    assert again.status_code == 200 and again.json() == first.json()
    assert (await client.post(path, json={"member_id": bob}, headers=h)).status_code == 201
    full = await client.post(path, json={"member_id": cy}, headers=h)
    assert full.status_code == 409 and full.json()["type"] == "event-full"
    # Already registered still answers 200 when the event is full.
    assert (await client.post(path, json={"member_id": bob}, headers=h)).status_code == 200

    listed = await client.get(path, headers=h)
    assert [r["member_name"] for r in listed.json()["items"]] == ["Ada", "Bob"]
    assert (await client.get(f"/v1/events/{event['id']}", headers=h)).json()[
        "registration_count"] == 2

    assert (await client.delete(f"{path}/{bob}", headers=h)).status_code == 204
    assert (await client.delete(f"{path}/{bob}", headers=h)).status_code == 404
    assert (await client.post(path, json={"member_id": cy}, headers=h)).status_code == 201


async def test_registration_refusals(client, admin):
    h = admin["headers"]
    event = await make_event(client, h)
    path = f"/v1/events/{event['id']}/registrations"
    missing = await client.post(path, json={"member_id": 999_999}, headers=h)
    assert missing.status_code == 422 and missing.json()["errors"][0]["loc"] == [
        "body", "member_id"]
    banned = await make_member("Banned", status="banned")
    refused = await client.post(path, json={"member_id": banned}, headers=h)
    assert refused.status_code == 409 and refused.json()["type"] == "member-banned"
    assert (await client.post("/v1/events/999999/registrations", json={"member_id": banned},
                              headers=h)).status_code == 404
    assert (await client.post(path, json={"member_id": banned, "seat": 3},
                              headers=h)).status_code == 422
    async with session_scope() as session:
        past = await session.get(Event, event["id"])
        past.starts_at, past.ends_at = utcnow() - timedelta(days=2), utcnow() - timedelta(days=1)
        session.add(past)
    over = await client.post(path, json={"member_id": await make_member()}, headers=h)
    assert over.status_code == 409 and over.json()["type"] == "event-over"
    assert await count_rows(EventRegistration) == 0


@pytest.mark.skipif(not os.environ.get("HEARTH_TEST_DATABASE_URL"),
                    reason="concurrency under row locks is a PostgreSQL property")
async def test_capacity_holds_under_concurrent_registrations(client, admin):
    h = admin["headers"]
    event = await make_event(client, h, capacity=3)
    members = [await make_member(f"M{i}") for i in range(12)]
    responses = await asyncio.gather(*(
        client.post(f"/v1/events/{event['id']}/registrations", json={"member_id": m},
                    headers=h) for m in members))
    assert Counter(r.status_code for r in responses) == {201: 3, 409: 9}
    assert await count_rows(EventRegistration) == 3


async def test_who_may_call_each_endpoint(client, admin, make_staff, make_api_key):
    h = admin["headers"]
    event = await make_event(client, h)
    community_id = event["community_id"]
    member_id = await make_member()
    base = f"/v1/events/{event['id']}"
    reads = [("GET", "/v1/events", None), ("GET", base, None),
             ("GET", f"{base}/registrations", None), ("GET", f"{base}/attendance", None)]
    writes = [
        ("POST", "/v1/events", event_body(community_id)),
        ("PATCH", base, {"title": "Renamed"}),
        ("POST", f"{base}/registrations", {"member_id": member_id}),
        ("DELETE", f"{base}/registrations/{member_id}", None),
        ("POST", f"{base}/attendance", {"member_id": member_id}),
        ("POST", f"{base}/attendance/bulk", {"member_ids": [member_id]}),
    ]
    viewer = (await make_staff("viewer"))["headers"]
    moderator = (await make_staff("moderator"))["headers"]
    wrong_key = await make_api_key("members:write", "feedback:write")
    read_key = await make_api_key("events:read")

    async def call(method, path, body, headers):
        return await client.request(method, path, json=body, headers=headers)

    csv_path = f"{base}/attendance/csv"
    csv_file = {"file": ("a.csv", b"name,email\nAda,ada@example.org\n", "text/csv")}
    for headers in ({}, wrong_key, viewer, moderator, read_key):
        expected = 401 if not headers else 403
        assert (await client.post(csv_path, files=csv_file, headers=headers)).status_code \
            == expected
    for method, path, body in reads + writes:
        assert (await call(method, path, body, {})).status_code == 401, path
        assert (await call(method, path, body, wrong_key)).status_code == 403, path
    for method, path, body in reads:
        for headers in (viewer, moderator, read_key):
            assert (await call(method, path, body, headers)).status_code == 200, path
    for method, path, body in writes:
        for headers in (viewer, moderator, read_key):
            assert (await call(method, path, body, headers)).status_code == 403, path
    # Nothing the refused writes asked for happened.
    assert await count_rows(Event) == 1
    assert await count_rows(Member) == 1
    assert (await client.get(base, headers=h)).json() == event


async def test_a_manager_and_a_scoped_api_key_run_events(client, admin, make_staff,
                                                         make_api_key):
    community = await make_community(client, admin["headers"])
    manager = (await make_staff("manager"))["headers"]
    key = await make_api_key("events:write", "events:read")
    for headers in (manager, key):
        event = await make_event(client, headers, community["id"])
        checked = await client.post(f"/v1/events/{event['id']}/attendance",
                                    json={"member_id": await make_member()}, headers=headers)
        assert checked.status_code == 201, checked.text
