"""POST/GET /v1/activities and /v1/activities/bulk. Members, communities and advocates are set up
directly in the database (their APIs have tests of their own); the helpers here serve the
incentive and worker tests too."""

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from shared.db import session_scope
from shared.models import Activity, Advocate, Community, Member, MemberIdentity, Tier
from shared.models.base import utcnow

_serial = itertools.count(1)


async def make_member(name: str = "Ada Lovelace", *, email: str | None = None,
                      identities: tuple[tuple[str, str], ...] = (), **fields) -> int:
    email = email or f"member{next(_serial)}@example.org"
    async with session_scope() as session:
        member = Member(name=name, email=email, email_key=email.lower(), **fields)
        session.add(member)
        await session.flush()
        session.add_all([MemberIdentity(member_id=member.id, provider=provider, external_id=ident)
                         for provider, ident in identities])
        return member.id


async def make_community(time_zone: str = "UTC") -> int:
    slug = f"community-{next(_serial)}"
    async with session_scope() as session:
        community = Community(name=slug.title(), slug=slug, kind="offline", timezone=time_zone)
        session.add(community)
        await session.flush()
        return community.id


async def make_tier(name: str, min_lifetime_points: int, multiplier: str) -> int:
    async with session_scope() as session:
        tier = Tier(name=name, min_lifetime_points=min_lifetime_points,
                    multiplier=Decimal(multiplier))
        session.add(tier)
        await session.flush()
        return tier.id


async def make_advocate(name: str = "Ada Lovelace", *, status: str = "active",
                        tier_id: int | None = None, member_status: str = "active",
                        **member_fields) -> dict:
    """A member enrolled as an advocate: {id, member_id, referral_code}."""
    member_id = await make_member(name, status=member_status, **member_fields)
    code = f"ADV-{next(_serial):04d}"
    async with session_scope() as session:
        advocate = Advocate(member_id=member_id, status=status, tier_id=tier_id,
                            referral_code=code)
        session.add(advocate)
        await session.flush()
        return {"id": advocate.id, "member_id": member_id, "referral_code": code}


def activity(member_id: int, **fields) -> dict:
    """An activity body; `at` (a datetime) sets occurred_at."""
    at = fields.pop("at", datetime(2026, 11, 20, 18, 30, tzinfo=UTC))
    return {"member_id": member_id, "kind": "talk_given", "occurred_at": at.isoformat(),
            "source": "meetup", "external_id": f"evt-{next(_serial)}", **fields}


async def post_activities(client, headers: dict, *bodies: dict) -> list[int]:
    """Stores activities through the bulk endpoint; returns their ids."""
    response = await client.post("/v1/activities/bulk", json={"items": list(bodies)},
                                 headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["rejected"] == 0, response.text
    return [item["id"] for item in response.json()["items"]]


async def stored() -> int:
    async with session_scope() as session:
        return (await session.exec(select(func.count()).select_from(Activity))).scalar_one()


async def test_an_activity_is_stored_with_its_local_calendar(client, admin):
    member_id = await make_member()
    berlin = await make_community("Europe/Berlin")
    # 23:30 UTC on Saturday 31 October is 00:30 on Sunday 1 November in Berlin.
    body = activity(member_id, community_id=berlin, at=datetime(2026, 10, 31, 23, 30, tzinfo=UTC),
                    properties={"title": "On-device ML"})
    response = await client.post("/v1/activities", json=body, headers=admin["headers"])
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["occurred_at"] == "2026-10-31T23:30:00Z"
    assert (created["local_day"], created["local_week"], created["local_month"]) == (
        "2026-11-01", "2026-10-26", "2026-11-01")
    assert created["processed_at"] is None and created["outcome"] is None
    assert created["properties"] == {"title": "On-device ML"}
    fetched = await client.get(f"/v1/activities/{created['id']}", headers=admin["headers"])
    assert fetched.json() == created


async def test_without_a_community_the_calendar_is_utc(client, admin):
    body = activity(await make_member(), at=datetime(2026, 10, 31, 23, 30, tzinfo=UTC))
    created = (await client.post("/v1/activities", json=body, headers=admin["headers"])).json()
    assert created["community_id"] is None and created["local_day"] == "2026-10-31"


async def test_a_replay_returns_the_stored_activity(client, admin):
    body = activity(await make_member(), properties={"v": 1})
    first = await client.post("/v1/activities", json=body, headers=admin["headers"])
    # The same (source, external_id) is the same activity, whatever else the replay says.
    replay = await client.post("/v1/activities", json={**body, "kind": "event_attended",
                                                       "properties": {"v": 2}},
                               headers=admin["headers"])
    assert (first.status_code, replay.status_code) == (201, 200)
    assert replay.json() == first.json()
    assert await stored() == 1
    other_source = await client.post("/v1/activities", json={**body, "source": "forum"},
                                     headers=admin["headers"])
    assert other_source.status_code == 201 and await stored() == 2


@pytest.mark.parametrize(("change", "field"), [
    ({"member_id": 999_999}, "member_id"),
    ({"community_id": 999_999}, "community_id"),
    ({"kind": "juggling"}, "kind"),
    ({"kind": "Not A Kind"}, "kind"),
    ({"occurred_at": "2026-11-20T18:30:00"}, "occurred_at"),
    ({"occurred_at": (utcnow() + timedelta(days=2)).isoformat()}, "occurred_at"),
    ({"source": ""}, "source"),
    ({"external_id": "x" * 201}, "external_id"),
    ({"properties": {"blob": "x" * 9000}}, "properties"),
    ({"properties": ["not", "an", "object"]}, "properties"),
    ({"points": 5}, "points"),
])
async def test_bad_input_is_422_and_stores_nothing(client, admin, change, field):
    body = {**activity(await make_member()), **change}
    response = await client.post("/v1/activities", json=body, headers=admin["headers"])
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["loc"] == ["body", field]
    assert field in response.json()["detail"]
    assert await stored() == 0


async def test_bulk_stores_the_good_items_and_reports_each(client, admin):
    member_id = await make_member()
    known = activity(member_id)
    assert (await client.post("/v1/activities", json=known,
                              headers=admin["headers"])).status_code == 201
    fresh = activity(member_id)
    items = [
        fresh,                                  # 0 accepted
        known,                                  # 1 duplicate of what was stored before
        {**fresh, "kind": "event_hosted"},      # 2 duplicate of item 0
        {**activity(member_id), "member_id": 999_999},   # 3 rejected: no such member
        {"member_id": member_id, "surplus": True},       # 4 rejected: shape
        activity(member_id, kind="post_created"),        # 5 accepted
    ]
    response = await client.post("/v1/activities/bulk", json={"items": items},
                                 headers=admin["headers"])
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["accepted"], result["duplicates"], result["rejected"]) == (2, 2, 2)
    statuses = [(item["index"], item["status"]) for item in result["items"]]
    assert statuses == [(0, "accepted"), (1, "duplicate"), (2, "duplicate"), (3, "rejected"),
                        (4, "rejected"), (5, "accepted")]
    ids = [item["id"] for item in result["items"]]
    assert ids[2] == ids[0] and ids[3] is None and ids[4] is None and len(set(ids)) == 4
    assert result["items"][3]["errors"] == [
        {"loc": ["member_id"], "msg": "member 999999 does not exist", "type": "not_found"}]
    assert {"loc": ["surplus"], "msg": "Extra inputs are not permitted",
            "type": "extra_forbidden"} in result["items"][4]["errors"]
    assert await stored() == 3


async def test_a_bulk_replay_stores_nothing_new(client, admin):
    member_id = await make_member()
    items = [activity(member_id) for _ in range(3)]
    await post_activities(client, admin["headers"], *items)
    again = (await client.post("/v1/activities/bulk", json={"items": items},
                               headers=admin["headers"])).json()
    assert (again["accepted"], again["duplicates"]) == (0, 3)
    assert await stored() == 3


@pytest.mark.parametrize("count", [0, 5001])
async def test_bulk_takes_1_to_5000_items(client, admin, count):
    body = {"items": [activity(1)] * count}
    response = await client.post("/v1/activities/bulk", json=body, headers=admin["headers"])
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "items"]


async def test_bulk_of_5000(client, admin):
    member_id = await make_member()
    items = [activity(member_id, at=datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=i))
             for i in range(5000)]
    response = await client.post("/v1/activities/bulk", json={"items": items},
                                 headers=admin["headers"])
    assert response.status_code == 200 and response.json()["accepted"] == 5000
    assert await stored() == 5000


async def test_list_filters_and_pages(client, admin):
    headers = admin["headers"]
    ada, chi = await make_member("Ada"), await make_member("Chi")
    club = await make_community()
    november = datetime(2026, 11, 1, tzinfo=UTC)
    ids = await post_activities(
        client, headers,
        activity(ada, community_id=club, at=november),
        activity(ada, kind="post_created", at=november + timedelta(days=10)),
        activity(chi, community_id=club, at=november + timedelta(days=20)),
    )

    async def listed(**params) -> list[int]:
        response = await client.get("/v1/activities", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert await listed() == ids[::-1]  # newest first
    assert await listed(member_id=ada) == [ids[1], ids[0]]
    assert await listed(community_id=club) == [ids[2], ids[0]]
    assert await listed(kind="post_created") == [ids[1]]
    assert await listed(start=(november + timedelta(days=5)).isoformat(),
                        end=(november + timedelta(days=15)).isoformat()) == [ids[1]]
    assert await listed(state="pending") == ids[::-1]
    assert await listed(state="processed") == []
    assert await listed(outcome="awarded") == []

    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/activities", params=params, headers=headers)).json()
        seen += [item["id"] for item in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == ids[::-1]

    naive = await client.get("/v1/activities", params={"start": "2026-11-01T00:00:00"},
                             headers=headers)
    assert naive.status_code == 422
    assert (await client.get("/v1/activities/999999", headers=headers)).status_code == 404


async def test_storing_queues_the_reward_calculation(client, admin, redis_url):
    from redis.asyncio import Redis

    await post_activities(client, admin["headers"], activity(await make_member()))
    redis = Redis.from_url(redis_url)
    try:
        assert await redis.exists("arq:job:process_pending_activities:pending")
    finally:
        await redis.aclose()


async def test_a_redis_outage_does_not_fail_the_request(client, admin, monkeypatch, caplog):
    from shared.embedded_redis import free_port
    from shared.settings import get_settings

    monkeypatch.setenv("HEARTH_REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    get_settings.cache_clear()
    try:
        response = await client.post("/v1/activities", json=activity(await make_member()),
                                     headers=admin["headers"])
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    # Stored and pending: the worker's cron finds it without the lost job.
    assert response.status_code == 201 and response.json()["processed_at"] is None
    assert "could not queue process_pending_activities" in caplog.text


async def test_refusals(client, make_staff, make_api_key):
    body = activity(await make_member())
    assert (await client.post("/v1/activities", json=body)).status_code == 401
    assert (await client.get("/v1/activities")).status_code == 401
    for role in ("viewer", "moderator"):
        staff = await make_staff(role)
        assert (await client.post("/v1/activities", json=body,
                                  headers=staff["headers"])).status_code == 403
        assert (await client.post("/v1/activities/bulk", json={"items": [body]},
                                  headers=staff["headers"])).status_code == 403
        assert (await client.get("/v1/activities", headers=staff["headers"])).status_code == 200
    reader = await make_api_key("activities:read")
    assert (await client.post("/v1/activities", json=body, headers=reader)).status_code == 403
    # An integration's key writes activities, and nothing else.
    writer = await make_api_key("activities:write")
    assert (await client.post("/v1/activities", json=body, headers=writer)).status_code == 201
    assert (await client.get("/v1/activities", headers=writer)).status_code == 403
    assert await stored() == 1
