"""Feedback: ratings only for events, the status loop and its refusals, staff answers and the
first response time, one vote per member, filters and sorts, and who may do what."""

import asyncio
import os

import pytest
from sqlalchemy import select

from services.worker.rewards import process_pending_activities
from shared.db import session_scope
from shared.models import Activity, Feedback, FeedbackVote
from tests.api.advocacy import count_rows, make_advocate, make_member, points_state
from tests.api.test_events import make_community, make_event


async def submit(client, headers, **fields) -> dict:
    if "member_id" not in fields:
        fields["member_id"] = await make_member()
    body = {"kind": "idea", "title": "More workshops", **fields}
    response = await client.post("/v1/feedback", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def move(client, headers, feedback: dict, status: str, **fields):
    return await client.patch(f"/v1/feedback/{feedback['id']}",
                              json={"status": status, **fields}, headers=headers)


async def test_submit_records_one_feedback_submitted_activity(client, admin):
    h = admin["headers"]
    community = await make_community(client, h)
    advocate = await make_advocate(client, h, "Ada")
    rule = await client.post("/v1/incentives", headers=h, json={
        "name": "Speak up", "kind": "points_rule", "activity_kind": "feedback_submitted",
        "points": 10})
    assert rule.status_code == 201, rule.text
    created = await submit(client, h, member_id=advocate["member_id"],
                           community_id=community["id"], body="Hands-on sessions, please.")
    assert created["status"] == "new" and created["vote_count"] == 0
    assert created["member_name"] == "Ada" and created["rating"] is None
    assert created["first_response_at"] is None and created["staff_response"] is None
    assert (await client.get(f"/v1/feedback/{created['id']}", headers=h)).json() == created

    async with session_scope() as session:
        [activity] = (await session.exec(select(Activity))).scalars().all()
    assert (activity.kind, activity.source, activity.external_id) == (
        "feedback_submitted", "hearth-feedback", f"feedback:{created['id']}")
    assert activity.member_id == advocate["member_id"]
    assert activity.community_id == community["id"]
    assert await process_pending_activities() == 1
    assert (await points_state(advocate["id"]))["balance"] == 10


async def test_an_idempotency_key_makes_a_retry_submit_nothing_new(client, admin):
    h = {**admin["headers"], "Idempotency-Key": "forum-post-991"}
    member_id = await make_member()
    body = {"kind": "issue", "title": "Wifi is down", "member_id": member_id}
    first = await client.post("/v1/feedback", json=body, headers=h)
    retry = await client.post("/v1/feedback", json=body, headers=h)
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert await count_rows(Feedback) == 1 and await count_rows(Activity) == 1


async def test_event_feedback_needs_a_rating_and_feeds_the_event_summary(client, admin):
    h = admin["headers"]
    event = await make_event(client, h)
    for rating in (5, 4, 4):
        created = await submit(client, h, kind="event", title=None, event_id=event["id"],
                               rating=rating, body="Nice")
        assert created["community_id"] == event["community_id"]
    await submit(client, h, kind="complaint", title="Too loud", event_id=event["id"])
    summary = (await client.get(f"/v1/events/{event['id']}", headers=h)).json()["feedback"]
    assert summary["count"] == 3
    assert summary["mean_rating"] == pytest.approx(13 / 3)
    listed = await client.get("/v1/feedback", params={"event_id": event["id"], "kind": "event"},
                              headers=h)
    assert sorted(f["rating"] for f in listed.json()["items"]) == [4, 4, 5]


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "event", "rating": None}, "rating"),
    ({"kind": "event", "rating": 0}, "rating"),
    ({"kind": "event", "rating": 6}, "rating"),
    ({"kind": "event", "rating": 4.5}, "rating"),
    ({"kind": "event", "event_id": None}, "event_id"),
    ({"kind": "idea", "rating": 5}, "rating"),
    ({"kind": "praise", "rating": 1}, "rating"),
    ({"kind": "idea", "title": None}, "title"),
    ({"kind": "wish"}, "kind"),
    ({"kind": "idea", "title": "x" * 201}, "title"),
    ({"kind": "idea", "body": "x" * 10_001}, "body"),
    ({"kind": "idea", "member_id": 999_999}, "member_id"),
    ({"kind": "idea", "community_id": 999_999}, "community_id"),
    ({"kind": "event", "event_id": 999_999}, "event_id"),
    ({"kind": "idea", "votes": 3}, "votes"),
])
async def test_bad_feedback_is_422_and_leaves_nothing(client, admin, body, field):
    h = admin["headers"]
    event = await make_event(client, h)
    fields = {"title": "About the meetup", "rating": 3, "event_id": event["id"],
              "member_id": await make_member(), **body}
    if fields["kind"] != "event" and "rating" not in body:
        fields.pop("rating")
    response = await client.post("/v1/feedback", json=fields, headers=h)
    assert response.status_code == 422, response.text
    assert field in [error["loc"][-1] for error in response.json()["errors"]]
    assert await count_rows(Feedback) == 0 and await count_rows(Activity) == 0


async def test_event_of_another_community_is_refused(client, admin):
    h = admin["headers"]
    event = await make_event(client, h)
    other = await make_community(client, h)
    response = await client.post("/v1/feedback", headers=h, json={
        "kind": "event", "rating": 4, "event_id": event["id"], "community_id": other["id"],
        "member_id": await make_member()})
    assert response.status_code == 422 and "belongs to community" in response.json()["detail"]
    banned = await make_member(status="banned")
    refused = await client.post("/v1/feedback", headers=h, json={
        "kind": "idea", "title": "Hm", "member_id": banned})
    assert refused.status_code == 409 and refused.json()["type"] == "member-banned"
    assert await count_rows(Feedback) == 0


async def test_the_status_loop_and_the_first_response(client, admin, make_staff):
    moderator = await make_staff("moderator")
    h = moderator["headers"]
    feedback = await submit(client, admin["headers"])
    reviewing = await move(client, h, feedback, "under_review")
    assert reviewing.status_code == 200, reviewing.text
    first_response_at = reviewing.json()["first_response_at"]
    assert first_response_at is not None and reviewing.json()["responded_by_id"] is None

    answered = await client.patch(f"/v1/feedback/{feedback['id']}",
                                  json={"staff_response": "We like it."}, headers=h)
    assert answered.json()["staff_response"] == "We like it."
    assert answered.json()["responded_by_id"] == moderator["id"]
    assert answered.json()["status"] == "under_review"
    planned = await move(client, h, feedback, "planned", staff_response="In January.")
    assert planned.json()["staff_response"] == "In January."
    done = await move(client, h, feedback, "done")
    assert done.status_code == 200 and done.json()["status"] == "done"
    # The first response stays the first.
    assert done.json()["first_response_at"] == first_response_at
    assert done.json()["responded_at"] >= first_response_at


@pytest.mark.parametrize(("path", "refused"), [
    ([], ["new", "planned", "done"]),
    (["under_review"], ["new", "under_review", "done"]),
    (["under_review", "planned"], ["new", "under_review", "planned"]),
    (["under_review", "planned", "done"],
     ["new", "under_review", "planned", "done", "declined"]),
    (["declined"], ["new", "under_review", "planned", "done", "declined"]),
    (["under_review", "declined"], ["under_review", "planned", "done"]),
])
async def test_senseless_status_changes_are_409_and_change_nothing(client, admin, path,
                                                                   refused):
    h = admin["headers"]
    feedback = await submit(client, h)
    for status in path:
        assert (await move(client, h, feedback, status)).status_code == 200, status
    before = (await client.get(f"/v1/feedback/{feedback['id']}", headers=h)).json()
    for status in refused:
        response = await move(client, h, feedback, status, staff_response="Sneaky")
        assert response.status_code == 409, status
        assert response.json()["current_status"] == (path[-1] if path else "new")
    assert (await client.get(f"/v1/feedback/{feedback['id']}", headers=h)).json() == before
    empty = await client.patch(f"/v1/feedback/{feedback['id']}", json={}, headers=h)
    assert empty.status_code == 422


async def test_declined_from_new_and_under_review(client, admin):
    h = admin["headers"]
    for path in (["declined"], ["under_review", "declined"], ["under_review", "planned",
                                                               "declined"]):
        feedback = await submit(client, h)
        for status in path:
            assert (await move(client, h, feedback, status)).status_code == 200


async def test_one_vote_per_member(client, admin):
    h = admin["headers"]
    idea = await submit(client, h)
    votes = f"/v1/feedback/{idea['id']}/votes"
    ada, bob = await make_member("Ada"), await make_member("Bob")
    first = await client.post(votes, json={"member_id": ada}, headers=h)
    assert first.status_code == 201
    assert first.json() == {"feedback_id": idea["id"], "member_id": ada, "voted": True,
                            "vote_count": 1}
    again = await client.post(votes, json={"member_id": ada}, headers=h)
    assert again.status_code == 200 and again.json()["vote_count"] == 1
    assert (await client.post(votes, json={"member_id": bob}, headers=h)).json()[
        "vote_count"] == 2
    assert (await client.get(f"/v1/feedback/{idea['id']}", headers=h)).json()["vote_count"] == 2

    withdrawn = await client.delete(f"{votes}/{ada}", headers=h)
    assert withdrawn.status_code == 200
    assert withdrawn.json() == {"feedback_id": idea["id"], "member_id": ada, "voted": False,
                                "vote_count": 1}
    assert (await client.delete(f"{votes}/{ada}", headers=h)).json()["vote_count"] == 1
    assert await count_rows(FeedbackVote) == 1


async def test_votes_only_on_ideas_by_members_in_good_standing(client, admin):
    h = admin["headers"]
    issue = await submit(client, h, kind="issue")
    refused = await client.post(f"/v1/feedback/{issue['id']}/votes",
                                json={"member_id": await make_member()}, headers=h)
    assert refused.status_code == 409 and refused.json()["type"] == "not-an-idea"
    idea = await submit(client, h)
    votes = f"/v1/feedback/{idea['id']}/votes"
    assert (await client.post(votes, json={"member_id": 999_999}, headers=h)).status_code == 422
    banned = await make_member(status="banned")
    assert (await client.post(votes, json={"member_id": banned}, headers=h)).status_code == 409
    assert (await client.post("/v1/feedback/999999/votes", json={"member_id": banned},
                              headers=h)).status_code == 404
    assert await count_rows(FeedbackVote) == 0


@pytest.mark.skipif(not os.environ.get("HEARTH_TEST_DATABASE_URL"),
                    reason="concurrency under row locks is a PostgreSQL property")
async def test_concurrent_votes_of_one_member_count_once(client, admin):
    h = admin["headers"]
    idea = await submit(client, h)
    member_id = await make_member()
    responses = await asyncio.gather(*(
        client.post(f"/v1/feedback/{idea['id']}/votes", json={"member_id": member_id},
                    headers=h) for _ in range(10)))
    assert sorted(r.status_code for r in responses) == [200] * 9 + [201]
    assert (await client.get(f"/v1/feedback/{idea['id']}", headers=h)).json()["vote_count"] == 1


async def test_list_filters_and_sorts_by_votes_or_date(client, admin):
    h = admin["headers"]
    community = await make_community(client, h)
    author = await make_member("Author")
    ideas = [await submit(client, h, title=f"Idea {i}", community_id=community["id"],
                          member_id=author) for i in range(4)]
    await submit(client, h, kind="issue", title="Broken link")
    voters = [await make_member(f"V{i}") for i in range(3)]
    for idea, count in zip(ideas, (1, 3, 0, 3), strict=True):
        for voter in voters[:count]:
            await client.post(f"/v1/feedback/{idea['id']}/votes", json={"member_id": voter},
                              headers=h)
    await move(client, h, ideas[0], "under_review")

    async def titles(**params) -> list[str]:
        seen, cursor = [], None
        while True:
            page = await client.get("/v1/feedback", headers=h, params={
                **params, "limit": 2, **({"cursor": cursor} if cursor else {})})
            assert page.status_code == 200, page.text
            seen += [f["title"] for f in page.json()["items"]]
            if (cursor := page.json()["next_cursor"]) is None:
                return seen

    assert await titles() == ["Broken link", "Idea 3", "Idea 2", "Idea 1", "Idea 0"]
    assert await titles(sort="votes", kind="idea") == ["Idea 1", "Idea 3", "Idea 0", "Idea 2"]
    assert await titles(status="under_review") == ["Idea 0"]
    assert await titles(community_id=community["id"], sort="votes") == [
        "Idea 1", "Idea 3", "Idea 0", "Idea 2"]
    assert await titles(member_id=author, kind="issue") == []
    # A cursor of one order is refused under the other.
    page = await client.get("/v1/feedback", params={"limit": 1}, headers=h)
    crossed = await client.get("/v1/feedback", headers=h, params={
        "sort": "votes", "cursor": page.json()["next_cursor"]})
    assert crossed.status_code == 422


async def test_who_may_call_each_endpoint(client, admin, make_staff, make_api_key):
    h = admin["headers"]
    idea = await submit(client, h)
    member_id = await make_member()
    base = f"/v1/feedback/{idea['id']}"
    reads = [("GET", "/v1/feedback", None), ("GET", base, None)]
    writes = [
        ("POST", "/v1/feedback", {"kind": "idea", "title": "X", "member_id": member_id}),
        ("PATCH", base, {"status": "under_review"}),
        ("POST", f"{base}/votes", {"member_id": member_id}),
        ("DELETE", f"{base}/votes/{member_id}", None),
    ]
    viewer = (await make_staff("viewer"))["headers"]
    wrong_key = await make_api_key("events:write", "moderation:write")
    read_key = await make_api_key("feedback:read")

    async def call(method, path, body, headers):
        return await client.request(method, path, json=body, headers=headers)

    for method, path, body in reads + writes:
        assert (await call(method, path, body, {})).status_code == 401, path
        assert (await call(method, path, body, wrong_key)).status_code == 403, path
    for method, path, body in reads:
        for headers in (viewer, read_key):
            assert (await call(method, path, body, headers)).status_code == 200, path
    for method, path, body in writes:
        for headers in (viewer, read_key):
            assert (await call(method, path, body, headers)).status_code == 403, path
    assert await count_rows(Feedback) == 1 and await count_rows(FeedbackVote) == 0
    assert (await client.get(base, headers=h)).json() == idea

    # Managers, moderators and a key with the scope handle feedback.
    for headers in ((await make_staff("manager"))["headers"],
                    (await make_staff("moderator"))["headers"],
                    await make_api_key("feedback:write")):
        created = await submit(client, headers)
        assert (await move(client, headers, created, "declined")).status_code == 200
