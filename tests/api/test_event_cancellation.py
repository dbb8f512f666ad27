"""Cancelling an event: who may, what it refuses afterwards (registrations, check-ins, changes,
a second cancellation), and the `status` filter of the list."""

from datetime import timedelta

from shared.models import Activity, Event, EventAttendance, EventRegistration
from shared.models.base import utcnow
from tests.api.advocacy import access_headers, count_rows, make_advocate, make_member
from tests.api.test_attendance import attendance_path, upload
from tests.api.test_events import make_community, make_event


def cancel_path(event: dict) -> str:
    return f"/v1/events/{event['id']}/cancel"


def assert_cancelled_refusal(response) -> None:
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "event-cancelled"
    assert "was cancelled" in response.json()["detail"]


async def test_cancel_with_and_without_a_reason(client, admin):
    h = admin["headers"]
    event = await make_event(client, h)
    assert event["status"] == "scheduled" and event["cancelled_at"] is None
    before = utcnow()
    cancelled = await client.post(cancel_path(event), json={"reason": "The venue closed."},
                                  headers=h)
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert body["status"] == "cancelled" and body["cancel_reason"] == "The venue closed."
    assert body["cancelled_at"] >= before.isoformat().replace("+00:00", "Z")
    assert (await client.get(f"/v1/events/{event['id']}", headers=h)).json() == body

    other = await make_event(client, h, event["community_id"])
    bare = await client.post(cancel_path(other), headers=h)  # no body at all
    assert bare.status_code == 200 and bare.json()["cancel_reason"] is None
    assert bare.json()["status"] == "cancelled"


async def test_bad_cancellations_are_refused_and_change_nothing(client, admin):
    h = admin["headers"]
    event = await make_event(client, h)
    for body in ({"reason": ""}, {"reason": "x" * 501}, {"reason": "late", "notify": True}):
        refused = await client.post(cancel_path(event), json=body, headers=h)
        assert refused.status_code == 422, body
    assert (await client.post("/v1/events/999999/cancel", headers=h)).status_code == 404
    assert (await client.get(f"/v1/events/{event['id']}", headers=h)).json() == event


async def test_cancelling_twice_is_a_conflict(client, admin):
    h = admin["headers"]
    event = await make_event(client, h)
    first = await client.post(cancel_path(event), json={"reason": "Storm"}, headers=h)
    assert first.status_code == 200
    again = await client.post(cancel_path(event), json={"reason": "Another reason"}, headers=h)
    assert_cancelled_refusal(again)
    # The first cancellation stands as it was.
    assert (await client.get(f"/v1/events/{event['id']}", headers=h)).json() == first.json()


async def test_a_cancelled_event_refuses_registrations_check_ins_and_changes(client, admin):
    h = admin["headers"]
    event = await make_event(client, h)
    registered = await make_member("Ada")
    assert (await client.post(f"/v1/events/{event['id']}/registrations",
                              json={"member_id": registered}, headers=h)).status_code == 201
    assert (await client.post(cancel_path(event), headers=h)).status_code == 200

    newcomer = await make_member("Bob")
    assert_cancelled_refusal(await client.post(f"/v1/events/{event['id']}/registrations",
                                               json={"member_id": newcomer}, headers=h))
    assert_cancelled_refusal(await client.post(attendance_path(event),
                                               json={"member_id": registered}, headers=h))
    assert_cancelled_refusal(await client.post(attendance_path(event, "/bulk"),
                                               json={"member_ids": [registered, newcomer]},
                                               headers=h))
    assert_cancelled_refusal(await upload(client, h, event,
                                          "name,email\nCy,cy@example.org\n"))
    assert_cancelled_refusal(await client.patch(f"/v1/events/{event['id']}",
                                                json={"title": "Back on"}, headers=h))

    # The registration made before stays as a record; nothing else was written.
    assert await count_rows(EventRegistration) == 1
    assert await count_rows(EventAttendance) == 0
    assert await count_rows(Activity) == 0
    read = (await client.get(f"/v1/events/{event['id']}", headers=h)).json()
    assert read["title"] == event["title"] and read["registration_count"] == 1


async def test_an_event_people_attended_cannot_be_cancelled(client, admin):
    h = admin["headers"]
    event = await make_event(client, h)
    member_id = await make_member("Ada")
    assert (await client.post(attendance_path(event), json={"member_id": member_id},
                              headers=h)).status_code == 201
    refused = await client.post(cancel_path(event), json={"reason": "Too late"}, headers=h)
    assert refused.status_code == 409 and refused.json()["type"] == "event-has-attendance"
    assert refused.json()["attendance_count"] == 1
    assert (await client.get(f"/v1/events/{event['id']}", headers=h)).json()[
        "status"] == "scheduled"


async def test_list_filters_by_status_and_orders_latest_first(client, admin):
    h = admin["headers"]
    community = await make_community(client, h)
    events = [await make_event(client, h, community["id"], starts_in=timedelta(days=day),
                               title=f"Day {day}") for day in (1, 2, 3, 4)]
    for event in events[1::2]:
        assert (await client.post(cancel_path(event), headers=h)).status_code == 200

    async def titles(**params) -> list[str]:
        seen, cursor = [], None
        while True:
            page = await client.get("/v1/events", headers=h, params={
                **params, "limit": 1, **({"cursor": cursor} if cursor else {})})
            assert page.status_code == 200, page.text
            seen += [event["title"] for event in page.json()["items"]]
            if (cursor := page.json()["next_cursor"]) is None:
                return seen

    assert await titles(status="cancelled") == ["Day 2", "Day 4"]
    assert await titles(status="scheduled") == ["Day 1", "Day 3"]
    assert await titles(order="desc") == ["Day 4", "Day 3", "Day 2", "Day 1"]
    assert await titles(order="desc", status="scheduled") == ["Day 3", "Day 1"]
    assert (await client.get("/v1/events", params={"status": "postponed"},
                             headers=h)).status_code == 422
    # A cursor of one order is refused by the other rather than skipping events.
    first = await client.get("/v1/events", params={"limit": 1}, headers=h)
    mixed = await client.get("/v1/events", headers=h, params={
        "order": "desc", "cursor": first.json()["next_cursor"]})
    assert mixed.status_code == 422 and mixed.json()["type"] == "bad-cursor"


async def test_who_may_cancel(client, admin, make_staff, make_api_key):
    h = admin["headers"]
    event = await make_event(client, h)
    advocate = await make_advocate(client, h)
    refused = {
        "anonymous": ({}, 401),
        "viewer": ((await make_staff("viewer"))["headers"], 403),
        "moderator": ((await make_staff("moderator"))["headers"], 403),
        "read-only key": (await make_api_key("events:read"), 403),
        "wrong key": (await make_api_key("members:write", "feedback:write"), 403),
        "advocate": (await access_headers(client, h, advocate["id"]), 403),
    }
    for who, (headers, status) in refused.items():
        response = await client.post(cancel_path(event), json={"reason": "no"}, headers=headers)
        assert response.status_code == status, who
    assert (await client.get(f"/v1/events/{event['id']}", headers=h)).json() == event
    assert await count_rows(Event) == 1

    manager = (await make_staff("manager"))["headers"]
    assert (await client.post(cancel_path(event), headers=manager)).status_code == 200
    key_event = await make_event(client, h, event["community_id"])
    key = await make_api_key("events:write")
    assert (await client.post(cancel_path(key_event), headers=key)).status_code == 200
