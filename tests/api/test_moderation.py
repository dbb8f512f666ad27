"""Moderation: reports, repeated reports seen together, warn/suspend/ban and what follows from
them (status, earning, redemptions, leaderboards), the member's history, and who may do what.
The end of suspensions by the worker's cron is tested in tests/worker/test_moderation.py."""

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select

from services.worker.rewards import process_pending_activities
from shared.db import session_scope
from shared.models import LedgerEntry, Member, ModerationAction, ModerationReport, Redemption
from shared.models.base import utcnow
from tests.api.advocacy import (
    count_rows,
    make_advocate,
    make_member,
    make_reward,
    points_state,
    reward_stock,
)

_activity_ids = itertools.count(1)


async def report(client, headers, subject_id: int, **fields) -> dict:
    body = {"subject_member_id": subject_id, "reason": "harassment",
            "details": "Rude replies in #help.", **fields}
    response = await client.post("/v1/moderation/reports", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def resolve(client, headers, report_id: int, action: str, **fields):
    return await client.post(f"/v1/moderation/reports/{report_id}/resolve",
                             json={"action": action, "note": f"{action}: see report", **fields},
                             headers=headers)


async def member_status(member_id: int) -> tuple[str, object]:
    async with session_scope() as session:
        member = await session.get(Member, member_id)
        return member.status, member.suspended_until


async def history(client, headers, member_id: int) -> list[tuple[str, str, str]]:
    response = await client.get(f"/v1/moderation/members/{member_id}/history", headers=headers)
    assert response.status_code == 200, response.text
    return [(a["action"], a["previous_status"], a["new_status"])
            for a in response.json()["items"]]


async def record_talk(client, headers, member_id: int) -> int:
    response = await client.post("/v1/activities", headers=headers, json={
        "member_id": member_id, "kind": "talk_given", "occurred_at": utcnow().isoformat(),
        "source": "test", "external_id": f"talk-{next(_activity_ids)}"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def outcome(client, headers, activity_id: int) -> str:
    return (await client.get(f"/v1/activities/{activity_id}", headers=headers)).json()["outcome"]


@pytest.fixture
async def talk_rule(client, admin) -> None:
    response = await client.post("/v1/incentives", headers=admin["headers"], json={
        "name": "Talks", "kind": "points_rule", "activity_kind": "talk_given", "points": 100})
    assert response.status_code == 201, response.text


async def test_a_report_names_its_reporter_and_community(client, admin):
    from tests.api.test_events import make_community

    h = admin["headers"]
    community = await make_community(client, h)
    subject, reporter = await make_member("Troll"), await make_member("Ada")
    filed = await report(client, h, subject, reporter_member_id=reporter,
                         community_id=community["id"])
    assert (filed["reporter_name"], filed["community_name"]) == ("Ada", community["name"])
    listed = (await client.get("/v1/moderation/reports", headers=h)).json()["items"]
    assert [(r["reporter_name"], r["community_name"]) for r in listed] == [
        ("Ada", community["name"])]
    anonymous = await report(client, h, subject)
    assert anonymous["reporter_name"] is None and anonymous["community_name"] is None


async def test_a_report_and_its_resolution_by_warning(client, admin, make_staff):
    moderator = await make_staff("moderator")
    h = moderator["headers"]
    subject, reporter = await make_member("Troll"), await make_member("Ada")
    filed = await report(client, h, subject, reporter_member_id=reporter)
    assert filed["status"] == "open" and filed["subject_name"] == "Troll"
    assert filed["subject_status"] == "active" and filed["action"] is None
    assert filed["reports_about_subject"] == filed["open_reports_about_subject"] == 1

    warned = await resolve(client, h, filed["id"], "warn")
    assert warned.status_code == 200, warned.text
    body = warned.json()
    assert body["status"] == "resolved" and body["action"] == "warn"
    assert body["resolution_note"] == "warn: see report"
    assert body["resolved_by_id"] == moderator["id"] and body["resolved_at"]
    assert body["subject_status"] == "warned" and body["open_reports_about_subject"] == 0
    assert await member_status(subject) == ("warned", None)

    again = await resolve(client, h, filed["id"], "ban")
    assert again.status_code == 409 and again.json()["type"] == "report-resolved"
    assert await member_status(subject) == ("warned", None)
    assert await history(client, h, subject) == [("warn", "active", "warned")]
    [action] = (await client.get(f"/v1/moderation/members/{subject}/history",
                                 headers=h)).json()["items"]
    assert action["report_id"] == filed["id"] and action["staff_user_id"] == moderator["id"]
    assert action["note"] == "warn: see report"


@pytest.mark.parametrize(("body", "field"), [
    ({"subject_member_id": 999_999}, "subject_member_id"),
    ({"reporter_member_id": 999_998}, "reporter_member_id"),
    ({"community_id": 999_999}, "community_id"),
    ({"reason": "ugly"}, "reason"),
    ({"details": "x" * 5001}, "details"),
    ({"status": "resolved"}, "status"),
    ({"self": True}, "reporter_member_id"),
])
async def test_bad_reports_are_422_and_leave_nothing(client, admin, body, field):
    subject = await make_member()
    fields = {"subject_member_id": subject, "reason": "spam", **body}
    if fields.pop("self", False):
        fields["reporter_member_id"] = subject
    response = await client.post("/v1/moderation/reports", json=fields,
                                 headers=admin["headers"])
    assert response.status_code == 422, response.text
    assert field in [error["loc"][-1] for error in response.json()["errors"]]
    assert await count_rows(ModerationReport) == 0


@pytest.mark.parametrize(("body", "field"), [
    ({"action": "suspend"}, "until"),
    ({"action": "suspend", "until": "2020-01-01T00:00:00+00:00"}, "until"),
    ({"action": "suspend", "until": "2099-01-01T00:00:00"}, "until"),
    ({"action": "warn", "until": "2099-01-01T00:00:00+00:00"}, "until"),
    ({"action": "ban", "note": ""}, "note"),
    ({"action": "shame"}, "action"),
    ({"action": "warn", "points": -100}, "points"),
])
async def test_bad_resolutions_are_422_and_change_nothing(client, admin, body, field):
    h = admin["headers"]
    subject = await make_member()
    filed = await report(client, h, subject)
    response = await client.post(f"/v1/moderation/reports/{filed['id']}/resolve",
                                 json={"note": "because", **body}, headers=h)
    assert response.status_code == 422, response.text
    assert field in [error["loc"][-1] for error in response.json()["errors"]]
    assert (await client.get(f"/v1/moderation/reports/{filed['id']}",
                             headers=h)).json() == filed
    assert await member_status(subject) == ("active", None)
    assert await count_rows(ModerationAction) == 0


async def test_repeated_reports_about_one_member_are_seen_together(client, admin):
    h = admin["headers"]
    troll, spammer, quiet = (await make_member("Troll"), await make_member("Spammer"),
                             await make_member("Quiet"))
    first = await report(client, h, troll)
    await report(client, h, spammer, reason="spam")
    await report(client, h, troll, reason="hate")
    dismissed = await report(client, h, quiet, reason="off_topic")
    await resolve(client, h, dismissed["id"], "dismiss")
    third = await report(client, h, troll, reason="other")
    assert third["reports_about_subject"] == third["open_reports_about_subject"] == 3
    await resolve(client, h, first["id"], "dismiss")

    async def listed(**params) -> list[tuple]:
        seen, cursor = [], None
        while True:
            page = await client.get("/v1/moderation/reports", headers=h, params={
                **params, "limit": 2, **({"cursor": cursor} if cursor else {})})
            assert page.status_code == 200, page.text
            seen += [(r["subject_name"], r["status"], r["open_reports_about_subject"])
                     for r in page.json()["items"]]
            if (cursor := page.json()["next_cursor"]) is None:
                return seen

    # Open first, in the order they came in; then the resolved ones.
    assert await listed() == [("Spammer", "open", 1), ("Troll", "open", 2),
                              ("Troll", "open", 2), ("Troll", "resolved", 2),
                              ("Quiet", "resolved", 0)]
    assert await listed(subject_member_id=troll, status="open") == [("Troll", "open", 2)] * 2
    assert await listed(reason="spam") == [("Spammer", "open", 1)]

    subjects = await client.get("/v1/moderation/subjects", headers=h)
    assert [(s["name"], s["open_reports"], s["reports"]) for s in subjects.json()["items"]] == [
        ("Troll", 2, 3), ("Spammer", 1, 1)]
    paged = await client.get("/v1/moderation/subjects", params={"limit": 1}, headers=h)
    rest = await client.get("/v1/moderation/subjects", headers=h, params={
        "limit": 1, "cursor": paged.json()["next_cursor"]})
    assert [s["name"] for s in paged.json()["items"] + rest.json()["items"]] == [
        "Troll", "Spammer"]


async def test_suspension_stops_earning_and_warnings_do_not_soften_it(client, admin,
                                                                      talk_rule):
    h = admin["headers"]
    advocate = await make_advocate(client, h, "Ada")
    member_id = advocate["member_id"]
    until = (utcnow() + timedelta(days=7)).replace(microsecond=0)
    suspended = await resolve(client, h, (await report(client, h, member_id))["id"], "suspend",
                              until=until.isoformat())
    assert suspended.status_code == 200, suspended.text
    assert await member_status(member_id) == ("suspended", until)

    talk = await record_talk(client, h, member_id)
    assert await process_pending_activities() == 1
    assert await outcome(client, h, talk) == "member_suspended"
    assert await points_state(advocate["id"]) == {"balance": 0, "ledger": 0, "lifetime": 0}

    # A warning leaves the suspension as it is; a shorter suspension does not shorten it.
    await resolve(client, h, (await report(client, h, member_id))["id"], "warn")
    await resolve(client, h, (await report(client, h, member_id))["id"], "suspend",
                  until=(until - timedelta(days=5)).isoformat())
    assert await member_status(member_id) == ("suspended", until)
    assert await history(client, h, member_id) == [
        ("suspend", "suspended", "suspended"), ("warn", "suspended", "suspended"),
        ("suspend", "active", "suspended")]

    lifted = await client.post(f"/v1/moderation/members/{member_id}/reinstate",
                               json={"note": "Appeal accepted."}, headers=h)
    assert lifted.status_code == 200, lifted.text
    assert lifted.json()["status"] == "active" and lifted.json()["suspended_until"] is None
    assert lifted.json()["items"][0]["action"] == "reinstate"
    again = await client.post(f"/v1/moderation/members/{member_id}/reinstate",
                              json={"note": "Twice?"}, headers=h)
    assert again.status_code == 409

    # Earning again; what was decided while suspended stays unpaid.
    after = await record_talk(client, h, member_id)
    assert await process_pending_activities() == 1
    assert await outcome(client, h, after) == "awarded"
    assert await outcome(client, h, talk) == "member_suspended"
    assert await points_state(advocate["id"]) == {"balance": 100, "ledger": 100,
                                                  "lifetime": 100}


async def test_a_warned_member_still_earns(client, admin, talk_rule):
    h = admin["headers"]
    advocate = await make_advocate(client, h)
    await resolve(client, h, (await report(client, h, advocate["member_id"]))["id"], "warn")
    talk = await record_talk(client, h, advocate["member_id"])
    await process_pending_activities()
    assert await outcome(client, h, talk) == "awarded"
    assert (await points_state(advocate["id"]))["balance"] == 100


async def test_a_ban_cancels_pending_redemptions_with_one_refund_each(client, admin,
                                                                      talk_rule):
    h = admin["headers"]
    advocate = await make_advocate(client, h, "Mallory", points=1000)
    await make_advocate(client, h, "Grace", points=10)
    reward = await make_reward(client, h, cost_points=100, stock=10, requires_approval=True)
    ids = []
    for _ in range(3):
        response = await client.post("/v1/redemptions", headers=h, json={
            "advocate_id": advocate["id"], "reward_id": reward["id"]})
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    requested, approved, fulfilled = ids
    await client.post(f"/v1/redemptions/{approved}/approve", headers=h)
    await client.post(f"/v1/redemptions/{fulfilled}/approve", headers=h)
    await client.post(f"/v1/redemptions/{fulfilled}/fulfil", headers=h)
    assert (await points_state(advocate["id"]))["balance"] == 700
    assert await reward_stock(reward["id"]) == 7
    board = await client.get("/v1/leaderboard", params={"period": "all"}, headers=h)
    assert [row["name"] for row in board.json()["items"]] == ["Mallory", "Grace"]

    first = await report(client, h, advocate["member_id"])
    banned = await resolve(client, h, first["id"], "ban")
    assert banned.status_code == 200, banned.text
    assert banned.json()["subject_status"] == "banned"
    assert await member_status(advocate["member_id"]) == ("banned", None)

    async with session_scope() as session:
        statuses = {r.id: r.status for r in (await session.exec(
            select(Redemption).order_by(Redemption.id))).scalars().all()}
        refunds = (await session.exec(select(LedgerEntry.redemption_id).where(
            LedgerEntry.kind == "refund"))).scalars().all()
    assert statuses == {requested: "cancelled", approved: "cancelled", fulfilled: "fulfilled"}
    assert sorted(refunds) == [requested, approved]
    assert await points_state(advocate["id"]) == {"balance": 900, "ledger": 900,
                                                  "lifetime": 1000}
    assert await reward_stock(reward["id"]) == 9

    # A second ban (another report) refunds nothing twice.
    second = await report(client, h, advocate["member_id"], reason="hate")
    assert (await resolve(client, h, second["id"], "ban")).status_code == 200
    assert await points_state(advocate["id"]) == {"balance": 900, "ledger": 900,
                                                  "lifetime": 1000}
    assert await count_rows(LedgerEntry) == 2 + 3 + 2

    # Out of the leaderboards, and earning nothing.
    board = await client.get("/v1/leaderboard", params={"period": "all"}, headers=h)
    assert [row["name"] for row in board.json()["items"]] == ["Grace"]
    talk = await record_talk(client, h, advocate["member_id"])
    await process_pending_activities()
    assert await outcome(client, h, talk) == "member_banned"
    assert (await points_state(advocate["id"]))["balance"] == 900
    assert await history(client, h, advocate["member_id"]) == [
        ("ban", "banned", "banned"), ("ban", "active", "banned")]


async def test_a_ban_ends_a_suspension_and_dismissal_changes_nothing(client, admin):
    h = admin["headers"]
    member_id = await make_member()
    until = (utcnow() + timedelta(days=3)).isoformat()
    await resolve(client, h, (await report(client, h, member_id))["id"], "suspend", until=until)
    await resolve(client, h, (await report(client, h, member_id))["id"], "dismiss")
    assert (await member_status(member_id))[0] == "suspended"
    await resolve(client, h, (await report(client, h, member_id))["id"], "ban")
    assert await member_status(member_id) == ("banned", None)
    # Resolving a report of someone banned never makes them less banned.
    for action, extra in (("warn", {}), ("suspend", {"until": until})):
        await resolve(client, h, (await report(client, h, member_id))["id"], action, **extra)
    assert await member_status(member_id) == ("banned", None)
    assert (await client.get("/v1/moderation/members/999999/history",
                             headers=h)).status_code == 404


async def test_who_may_call_each_endpoint(client, admin, make_staff, make_api_key):
    h = admin["headers"]
    subject = await make_member()
    filed = await report(client, h, subject)
    base = f"/v1/moderation/reports/{filed['id']}"
    reads = [("GET", "/v1/moderation/reports", None), ("GET", base, None),
             ("GET", "/v1/moderation/subjects", None),
             ("GET", f"/v1/moderation/members/{subject}/history", None)]
    writes = [
        ("POST", "/v1/moderation/reports", {"subject_member_id": subject, "reason": "spam"}),
        ("POST", f"{base}/resolve", {"action": "ban", "note": "Out"}),
        ("POST", f"/v1/moderation/members/{subject}/reinstate", {"note": "Back"}),
    ]
    viewer = (await make_staff("viewer"))["headers"]
    manager = (await make_staff("manager"))["headers"]
    wrong_key = await make_api_key("members:write", "events:write", "feedback:write")
    read_key = await make_api_key("moderation:read")

    async def call(method, path, body, headers):
        return await client.request(method, path, json=body, headers=headers)

    for method, path, body in reads + writes:
        assert (await call(method, path, body, {})).status_code == 401, path
        assert (await call(method, path, body, wrong_key)).status_code == 403, path
    for method, path, body in reads:
        for headers in (viewer, manager, read_key):
            assert (await call(method, path, body, headers)).status_code == 200, path
    for method, path, body in writes:
        for headers in (viewer, manager, read_key):
            response = await call(method, path, body, headers)
            assert response.status_code == 403, path
            assert "moderation:write" in response.json()["detail"]
    assert await count_rows(ModerationReport) == 1 and await count_rows(ModerationAction) == 0
    assert await member_status(subject) == ("active", None)

    # A moderator and a key with the scope do it.
    for headers in ((await make_staff("moderator"))["headers"],
                    await make_api_key("moderation:write")):
        other = await report(client, headers, subject)
        assert (await resolve(client, headers, other["id"], "warn")).status_code == 200
