"""Check-in: once per person however often scanned, one by one, in bulk or from a CSV file; each
check-in is one `event_attended` activity, and its points arrive through the worker."""

from datetime import timedelta

from sqlalchemy import func, select

from services.worker.rewards import process_pending_activities
from shared.db import session_scope
from shared.models import Activity, EventAttendance, Member, Membership
from shared.models.base import utcnow
from shared.rules.calendar import local_buckets
from tests.api.advocacy import count_rows, make_advocate, make_member, points_state
from tests.api.test_events import make_community, make_event


def attendance_path(event: dict, suffix: str = "") -> str:
    return f"/v1/events/{event['id']}/attendance{suffix}"


async def upload(client, headers, event: dict, text: str | bytes):
    data = text.encode() if isinstance(text, str) else text
    return await client.post(attendance_path(event, "/csv"), headers=headers,
                             files={"file": ("attendees.csv", data, "text/csv")})


async def attendance_activities(event_id: int) -> list[Activity]:
    async with session_scope() as session:
        return list((await session.exec(
            select(Activity).where(Activity.kind == "event_attended",
                                   Activity.properties["event_id"].as_integer() == event_id)
            .order_by(Activity.member_id))).scalars().all())


async def test_single_check_in_counts_once_however_often_scanned(client, admin):
    h = admin["headers"]
    community = await make_community(client, h, timezone="America/New_York")
    event = await make_event(client, h, community["id"], starts_in=timedelta(hours=3))
    member_id = await make_member("Ada")

    first = await client.post(attendance_path(event), json={"member_id": member_id}, headers=h)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["status"] == "checked_in" and body["attendance_count"] == 1
    assert body["attendance"]["member_name"] == "Ada"
    assert body["attendance"]["method"] == "single"
    assert body["attendance"]["checked_in_by_id"] == admin["id"]
    for _ in range(3):
        again = await client.post(attendance_path(event), json={"member_id": member_id},
                                  headers=h)
        assert again.status_code == 200
        assert again.json() == {**body, "status": "already_checked_in"}

    [activity] = await attendance_activities(event["id"])
    starts_at = (await client.get(f"/v1/events/{event['id']}", headers=h)).json()["starts_at"]
    assert activity.member_id == member_id and activity.community_id == community["id"]
    assert activity.occurred_at.isoformat().replace("+00:00", "Z") == starts_at
    assert activity.source == "hearth-events"
    assert activity.external_id == f"event:{event['id']}:member:{member_id}"
    assert (activity.local_day, activity.local_week, activity.local_month) == local_buckets(
        activity.occurred_at, "America/New_York")
    assert await count_rows(EventAttendance) == 1
    # Attending made Ada a member of the community.
    async with session_scope() as session:
        membership = (await session.exec(select(Membership).where(
            Membership.member_id == member_id))).scalars().one()
    assert membership.community_id == community["id"]

    listed = await client.get(attendance_path(event), headers=h)
    assert [a["member_id"] for a in listed.json()["items"]] == [member_id]
    read = await client.get(f"/v1/events/{event['id']}", headers=h)
    assert read.json()["attendance_count"] == 1


async def test_single_check_in_refusals_leave_nothing(client, admin):
    h = admin["headers"]
    event = await make_event(client, h)
    missing = await client.post(attendance_path(event), json={"member_id": 999_999}, headers=h)
    assert missing.status_code == 422
    banned = await make_member("Mallory", status="banned")
    refused = await client.post(attendance_path(event), json={"member_id": banned}, headers=h)
    assert refused.status_code == 409 and refused.json()["type"] == "member-banned"
    assert (await client.post("/v1/events/999999/attendance", json={"member_id": banned},
                              headers=h)).status_code == 404
    later = await make_event(client, h, starts_in=timedelta(days=3))
    early = await client.post(attendance_path(later), json={"member_id": banned}, headers=h)
    assert early.status_code == 409 and early.json()["type"] == "check-in-not-open"
    assert await count_rows(EventAttendance) == 0
    assert await count_rows(Activity) == 0


async def test_bulk_check_in_reports_each_member(client, admin):
    h = admin["headers"]
    event = await make_event(client, h)
    ada, bob = await make_member("Ada"), await make_member("Bob")
    banned = await make_member("Mallory", status="banned")
    await client.post(attendance_path(event), json={"member_id": ada}, headers=h)

    response = await client.post(attendance_path(event, "/bulk"), headers=h,
                                 json={"member_ids": [ada, bob, 999_999, bob, banned]})
    assert response.status_code == 200, response.text
    result = response.json()
    assert [(i["member_id"], i["status"], i["reason"]) for i in result["items"]] == [
        (ada, "already_checked_in", None),
        (bob, "checked_in", None),
        (999_999, "rejected", "member does not exist"),
        (bob, "already_checked_in", None),
        (banned, "rejected", "member is banned"),
    ]
    assert (result["checked_in"], result["already_checked_in"], result["rejected"],
            result["attendance_count"]) == (1, 2, 2, 2)

    replay = await client.post(attendance_path(event, "/bulk"), headers=h,
                               json={"member_ids": [ada, bob]})
    assert replay.json()["checked_in"] == 0 and replay.json()["already_checked_in"] == 2
    assert await count_rows(EventAttendance) == 2
    assert [a.member_id for a in await attendance_activities(event["id"])] == [ada, bob]

    # The door screen asks which of the members it found are already in.
    among = await client.get(attendance_path(event), headers=h,
                             params={"member_id": [ada, banned, 999_999]})
    assert among.status_code == 200
    assert [row["member_id"] for row in among.json()["items"]] == [ada]
    too_many = await client.get(attendance_path(event), headers=h,
                                params={"member_id": list(range(1, 502))})
    assert too_many.status_code == 422
    assert (await client.get(attendance_path(event), headers=h,
                             params={"member_id": "ada"})).status_code == 422


async def test_six_hundred_attendees_in_one_request(client, admin):
    h = admin["headers"]
    event = await make_event(client, h)
    async with session_scope() as session:
        people = [Member(name=f"Attendee {i}", email=f"a{i}@example.org",
                         email_key=f"a{i}@example.org") for i in range(600)]
        session.add_all(people)
        await session.flush()
        ids = [person.id for person in people]
    response = await client.post(attendance_path(event, "/bulk"), json={"member_ids": ids},
                                 headers=h)
    assert response.status_code == 200, response.text
    assert response.json()["checked_in"] == 600 and response.json()["attendance_count"] == 600
    assert len(await attendance_activities(event["id"])) == 600
    assert await count_rows(Membership) == 600

    again = await client.post(attendance_path(event, "/bulk"), json={"member_ids": ids},
                              headers=h)
    assert again.json()["already_checked_in"] == 600
    assert len(await attendance_activities(event["id"])) == 600


async def test_bulk_limits_are_checked_before_anything_is_written(client, admin):
    h = admin["headers"]
    event = await make_event(client, h)
    for body in ({"member_ids": []}, {"member_ids": list(range(1, 5_002))},
                 {"member_ids": ["one"]}, {"member_ids": [1], "notify": True}):
        assert (await client.post(attendance_path(event, "/bulk"), json=body,
                                  headers=h)).status_code == 422
    assert await count_rows(EventAttendance) == 0


async def test_csv_matches_by_email_creates_the_rest_and_reports_every_row(client, admin):
    h = admin["headers"]
    community = await make_community(client, h)
    event = await make_event(client, h, community["id"])
    known = await make_member("Grace Hopper")  # member1..n@example.org, see make_member
    async with session_scope() as session:
        known_email = (await session.get(Member, known)).email
    banned = await make_member("Mallory", status="banned")
    async with session_scope() as session:
        banned_email = (await session.get(Member, banned)).email

    text = (
        "Name,Email,Company\n"                                # 1: columns in any case
        f"Grace H.,{known_email.upper()},Navy\n"              # 2: matched, case-insensitively
        "Chi Obi,chi@example.org,\n"                          # 3: created
        "\n"                                                  # 4: blank, skipped
        "Chi again,CHI@example.org,\n"                        # 5: the same person as line 3
        "No Email,,\n"                                        # 6: rejected
        "Bad Email,not-an-email,\n"                           # 7: rejected
        ",nobody@example.org,\n"                              # 8: unknown and no name
        f"Mallory,{banned_email},\n"                          # 9: banned
        f"{'x' * 201},long@example.org,\n"                    # 10: name too long
    )
    response = await upload(client, h, event, text)
    assert response.status_code == 200, response.text
    result = response.json()
    rows = {row["line"]: (row["status"], row["reason"]) for row in result["rows"]}
    assert rows == {
        2: ("matched", None),
        3: ("created", None),
        5: ("already_checked_in", "the same person as line 3"),
        6: ("rejected", "email is missing"),
        7: ("rejected", "email is not a valid email address"),
        8: ("rejected", "no member has this email; give a name to create one"),
        9: ("rejected", "member is banned"),
        10: ("rejected", "name is longer than 200 characters"),
    }
    assert (result["created"], result["matched"], result["already_checked_in"],
            result["rejected"], result["attendance_count"]) == (1, 1, 1, 5, 2)
    by_line = {row["line"]: row for row in result["rows"]}
    assert by_line[2]["member_id"] == known
    assert by_line[5]["member_id"] == by_line[3]["member_id"]
    async with session_scope() as session:
        chi = await session.get(Member, by_line[3]["member_id"])
    assert (chi.name, chi.email, chi.email_key, chi.status) == (
        "Chi Obi", "chi@example.org", "chi@example.org", "active")
    activities = await attendance_activities(event["id"])
    assert sorted(a.member_id for a in activities) == sorted([known, chi.id])

    # The same file again changes nothing.
    again = (await upload(client, h, event, text)).json()
    assert (again["created"], again["matched"], again["already_checked_in"], again["rejected"],
            again["attendance_count"]) == (0, 0, 3, 5, 2)
    assert await count_rows(EventAttendance) == 2
    assert len(await attendance_activities(event["id"])) == 2
    async with session_scope() as session:
        chis = (await session.exec(select(func.count()).select_from(Member).where(
            Member.email_key == "chi@example.org"))).scalar_one()
    assert chis == 1


async def test_unreadable_csv_files_are_refused_whole(client, admin):
    h = admin["headers"]
    event = await make_event(client, h)
    for text in ("name,mail\nAda,ada@example.org\n",  # no email column
                 "",  # empty
                 "name,email\n\n\n",  # no attendees
                 "name,email\nAda,ada@example.org\n".encode("utf-16"),  # not UTF-8
                 "name,email\n" + "Ada,ada@example.org\n" * 5_001):  # too many
        response = await upload(client, h, event, text)
        assert response.status_code == 422, text[:40]
        assert response.json()["type"] == "invalid-csv"
    assert await count_rows(Member) == 0
    assert await count_rows(EventAttendance) == 0
    missing = await client.post(attendance_path(event, "/csv"), headers=h)
    assert missing.status_code == 422


async def test_attendance_points_arrive_through_the_worker_exactly_once(client, admin):
    h = admin["headers"]
    rule = await client.post("/v1/incentives", headers=h, json={
        "name": "Show up", "kind": "points_rule", "activity_kind": "event_attended",
        "points": 50})
    assert rule.status_code == 201, rule.text
    advocate = await make_advocate(client, h, "Ada")
    bystander = await make_member("Bob")  # no advocate: the activity is kept, earns nothing
    first = await make_event(client, h)
    second = await make_event(client, h)

    await client.post(attendance_path(first), json={"member_id": advocate["member_id"]},
                      headers=h)
    await client.post(attendance_path(first, "/bulk"), headers=h,
                      json={"member_ids": [advocate["member_id"], bystander]})
    await upload(client, h, second, f"name,email\nAda,{advocate['email']}\n")
    assert await points_state(advocate["id"]) == {"balance": 0, "ledger": 0, "lifetime": 0}

    assert await process_pending_activities() == 3
    assert await points_state(advocate["id"]) == {"balance": 100, "ledger": 100,
                                                  "lifetime": 100}
    outcomes = {a.member_id: a.outcome for a in await attendance_activities(first["id"])}
    assert outcomes == {advocate["member_id"]: "awarded", bystander: "not_an_advocate"}

    # Scanning everyone again and running the worker again changes nothing.
    await client.post(attendance_path(first, "/bulk"), headers=h,
                      json={"member_ids": [advocate["member_id"], bystander]})
    await upload(client, h, second, f"name,email\nAda,{advocate['email'].upper()}\n")
    assert await process_pending_activities() == 0
    assert await points_state(advocate["id"]) == {"balance": 100, "ledger": 100,
                                                  "lifetime": 100}


async def test_check_in_stays_open_after_the_event(client, admin):
    h = admin["headers"]
    event = await make_event(client, h, starts_in=timedelta(days=-7))
    late = await client.post(attendance_path(event), json={"member_id": await make_member()},
                             headers=h)
    assert late.status_code == 201
    [activity] = await attendance_activities(event["id"])
    assert activity.occurred_at < utcnow() - timedelta(days=6)
