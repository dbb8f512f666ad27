from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.api.leaderboard.schemas import LeaderboardPeriod
from services.api.leaderboard.service import period_start
from shared.db import session_scope
from shared.ledger import EntryKind
from shared.models import Member
from shared.models.base import utcnow
from tests.api.advocacy import access_headers, award, make_advocate, make_community


async def board(client, headers, **params) -> list[tuple]:
    response = await client.get("/v1/leaderboard", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [(row["rank"], row["name"], row["points"]) for row in response.json()["items"]]


@pytest.mark.parametrize(("period", "expected"), [
    ("week", datetime(2026, 11, 23, tzinfo=UTC)),
    ("month", datetime(2026, 11, 1, tzinfo=UTC)),
    ("quarter", datetime(2026, 10, 1, tzinfo=UTC)),
    ("year", datetime(2026, 1, 1, tzinfo=UTC)),
    ("all", None),
])
def test_periods_are_current_calendar_periods_in_utc(period, expected):
    # Sunday 22 November 2026, 23:30 in New York is already Monday in UTC: a new week.
    now = datetime(2026, 11, 22, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert period_start(LeaderboardPeriod(period), now) == expected


async def test_ranks_by_points_earned_not_by_balance(client, admin):
    h = admin["headers"]
    saver = await make_advocate(client, h, "Saver", points=300)
    spender = await make_advocate(client, h, "Spender", points=500)
    await award(spender["id"], -450, kind=EntryKind.redemption)
    await award(saver["id"], 50, kind=EntryKind.adjustment)
    await award(saver["id"], 40, kind=EntryKind.bonus)
    await award(saver["id"], 25, kind=EntryKind.refund)
    response = await client.get("/v1/leaderboard", params={"period": "all"}, headers=h)
    assert response.json()["items"] == [
        {"rank": 1, "advocate_id": spender["id"], "member_id": spender["member_id"],
         "name": "Spender", "points": 500},
        {"rank": 2, "advocate_id": saver["id"], "member_id": saver["member_id"],
         "name": "Saver", "points": 390}]
    assert response.json()["since"] is None and response.json()["period"] == "all"


async def test_only_active_advocates_of_members_in_good_standing_rank(client, admin):
    h = admin["headers"]
    await make_advocate(client, h, "Active", points=10)
    paused = await make_advocate(client, h, "Paused", points=20)
    removed = await make_advocate(client, h, "Removed", points=30)
    banned = await make_advocate(client, h, "Banned", points=40)
    await make_advocate(client, h, "Tester", points=50, is_test=True)
    await make_advocate(client, h, "Nobody", points=0)
    await client.post(f"/v1/advocates/{paused['id']}/pause", headers=h)
    await client.post(f"/v1/advocates/{removed['id']}/remove", headers=h)
    async with session_scope() as session:
        member = await session.get(Member, banned["member_id"])
        member.status = "banned"
        session.add(member)
    assert await board(client, h, period="all") == [(1, "Active", 10)]


async def test_ties_go_to_who_got_there_first_then_the_lower_id(client, admin):
    h = admin["headers"]
    now = utcnow()
    late = await make_advocate(client, h, "Late")
    early = await make_advocate(client, h, "Early")
    twin_a = await make_advocate(client, h, "Twin A")
    twin_b = await make_advocate(client, h, "Twin B")
    await award(late["id"], 100, at=now - timedelta(minutes=1))
    await award(early["id"], 60, at=now - timedelta(minutes=30))
    await award(early["id"], 40, at=now - timedelta(minutes=20))
    moment = now - timedelta(minutes=10)
    await award(twin_b["id"], 100, at=moment)
    await award(twin_a["id"], 100, at=moment)
    assert await board(client, h, period="all") == [
        (1, "Early", 100), (2, "Twin A", 100), (3, "Twin B", 100), (4, "Late", 100)]
    assert await board(client, h, period="all", limit=2) == [(1, "Early", 100),
                                                             (2, "Twin A", 100)]


async def test_periods_count_entries_from_their_start_on(client, admin):
    h = admin["headers"]
    now = utcnow()
    for period in ("week", "month", "quarter", "year"):
        name = period.title()
        advocate = await make_advocate(client, h, name)
        start = period_start(LeaderboardPeriod(period), now)
        await award(advocate["id"], 1, at=start)
        await award(advocate["id"], 1000, at=start - timedelta(microseconds=1))
        in_period = {row[1]: row[2] for row in await board(client, h, period=period)}
        assert in_period[name] == 1
        all_time = {row[1]: row[2] for row in await board(client, h, period="all")}
        assert all_time[name] == 1001


async def test_a_community_board_counts_only_its_activities(client, admin):
    h = admin["headers"]
    python, rust = await make_community("python"), await make_community("rust")
    ada = await make_advocate(client, h, "Ada")
    bo = await make_advocate(client, h, "Bo")
    await award(ada["id"], 100, community_id=python)
    await award(ada["id"], 500, community_id=rust)
    await award(ada["id"], 900, kind=EntryKind.adjustment)
    await award(bo["id"], 150, community_id=python)
    assert await board(client, h, period="all", community_id=python) == [
        (1, "Bo", 150), (2, "Ada", 100)]
    assert await board(client, h, period="all", community_id=rust) == [(1, "Ada", 500)]
    assert await board(client, h, period="all") == [(1, "Ada", 1500), (2, "Bo", 150)]
    missing = await client.get("/v1/leaderboard", params={"community_id": 999}, headers=h)
    assert missing.status_code == 404


async def test_refusals(client, admin, make_staff, make_api_key):
    h = admin["headers"]
    advocate = await make_advocate(client, h, points=5)
    for params in [{"period": "decade"}, {"limit": 0}, {"limit": 501}]:
        assert (await client.get("/v1/leaderboard", params=params, headers=h)).status_code == 422
    link = await access_headers(client, h, advocate["id"])
    for headers, status in [({}, 401), (await make_api_key("rewards:read"), 403), (link, 403),
                            ((await make_staff("viewer"))["headers"], 200),
                            (await make_api_key("advocates:read"), 200)]:
        assert (await client.get("/v1/leaderboard", headers=headers)).status_code == status
