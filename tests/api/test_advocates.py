import re
from datetime import timedelta

from sqlalchemy import select, update

from shared.db import session_scope
from shared.ledger import EntryKind, Posting, post
from shared.models import (
    Advocate,
    AdvocateAccessLink,
    Incentive,
    LedgerEntry,
    Membership,
    Redemption,
    Reward,
)
from shared.models.base import utcnow
from tests.api.advocacy import (
    access_headers,
    award,
    count_rows,
    enrol,
    make_advocate,
    make_community,
    make_member,
)

CODE = re.compile(r"^[A-Z]{1,3}-[2-9A-HJKMNP-Z]{4}$")


async def make_tiers(client, headers) -> dict[str, int]:
    ids = {}
    for name, floor, multiplier in [("Bronze", 0, 1), ("Silver", 500, 1.25), ("Gold", 2000, 2)]:
        response = await client.post("/v1/tiers", json={
            "name": name, "min_lifetime_points": floor, "multiplier": multiplier,
            "perks": [f"{name} badge"]}, headers=headers)
        assert response.status_code == 201, response.text
        ids[name] = response.json()["id"]
    return ids


async def test_enrol_gives_a_readable_unique_referral_code_and_the_base_tier(client, admin):
    tiers = await make_tiers(client, admin["headers"])
    first = await enrol(client, admin["headers"], await make_member("Ada Lovelace"))
    second = await enrol(client, admin["headers"], await make_member("Ada Byron"))
    assert CODE.match(first["referral_code"]) and first["referral_code"].startswith("ADA-")
    assert first["referral_code"] != second["referral_code"]
    assert first["status"] == "active" and first["balance"] == first["lifetime_points"] == 0
    assert first["name"] == "Ada Lovelace" and first["email"].endswith("@example.org")
    assert first["tier"]["id"] == tiers["Bronze"]
    assert first["next_tier"]["id"] == tiers["Silver"] and first["points_to_next_tier"] == 500


async def test_a_name_without_latin_letters_still_gets_a_code(client, admin):
    advocate = await enrol(client, admin["headers"], await make_member("李娜"))
    assert CODE.match(advocate["referral_code"]) and advocate["referral_code"].startswith("ADV-")


async def test_enrolment_refusals_leave_nothing_behind(client, admin):
    banned = await make_member("Bad Actor", status="banned")
    suspended = await make_member("Cool Off", status="suspended")
    erased = await make_member("Gone", erased_at=utcnow())
    for member_id, reason in [(banned, "banned"), (suspended, "suspended"), (erased, "erased")]:
        response = await client.post("/v1/advocates", json={"member_id": member_id},
                                     headers=admin["headers"])
        assert response.status_code == 409, response.text
        assert response.json()["type"] == "member-not-eligible"
        assert response.json()["reason"] == reason
    missing = await client.post("/v1/advocates", json={"member_id": 999},
                                headers=admin["headers"])
    assert missing.status_code == 422 and missing.json()["errors"][0]["loc"] == [
        "body", "member_id"]
    for body in [{}, {"member_id": "seven"}, {"member_id": 0},
                 {"member_id": banned, "tier_id": 1}]:
        response = await client.post("/v1/advocates", json=body, headers=admin["headers"])
        assert response.status_code == 422, body
    assert await count_rows(Advocate) == 0


async def test_a_member_is_enrolled_once_and_a_removed_advocate_is_reactivated(client, admin):
    member_id = await make_member()
    advocate = await enrol(client, admin["headers"], member_id)
    await award(advocate["id"], 40)
    again = await client.post("/v1/advocates", json={"member_id": member_id},
                              headers=admin["headers"])
    assert again.status_code == 409 and again.json()["advocate_id"] == advocate["id"]
    await client.post(f"/v1/advocates/{advocate['id']}/remove", headers=admin["headers"])
    back = await client.post("/v1/advocates", json={"member_id": member_id},
                             headers=admin["headers"])
    assert back.status_code == 200
    assert back.json()["id"] == advocate["id"] and back.json()["status"] == "active"
    assert back.json()["balance"] == 40
    assert back.json()["referral_code"] == advocate["referral_code"]


async def test_detail_shows_tier_next_tier_and_points_still_needed(client, admin):
    tiers = await make_tiers(client, admin["headers"])
    advocate = await make_advocate(client, admin["headers"], points=620)
    await award(advocate["id"], -120, kind=EntryKind.redemption)
    body = (await client.get(f"/v1/advocates/{advocate['id']}", headers=admin["headers"])).json()
    assert (body["balance"], body["lifetime_points"]) == (500, 620)
    assert body["tier"] == {"id": tiers["Silver"], "name": "Silver", "min_lifetime_points": 500,
                            "multiplier": 1.25, "perks": ["Silver badge"]}
    assert body["next_tier"]["id"] == tiers["Gold"] and body["next_tier"]["min_lifetime_points"] \
        == 2000
    assert body["points_to_next_tier"] == 1380
    await award(advocate["id"], 1500)
    top = (await client.get(f"/v1/advocates/{advocate['id']}", headers=admin["headers"])).json()
    assert top["tier"]["id"] == tiers["Gold"]
    assert top["next_tier"] is None and top["points_to_next_tier"] is None
    missing = await client.get("/v1/advocates/999", headers=admin["headers"])
    assert missing.status_code == 404 and missing.json()["type"] == "not-found"


async def test_next_tier_is_above_the_tier_held_even_if_thresholds_moved(client, admin):
    tiers = await make_tiers(client, admin["headers"])
    advocate = await make_advocate(client, admin["headers"], points=600)
    # Silver now starts above the advocate's points; they keep it, and Gold is next.
    await client.patch(f"/v1/tiers/{tiers['Silver']}", json={"min_lifetime_points": 800},
                       headers=admin["headers"])
    body = (await client.get(f"/v1/advocates/{advocate['id']}", headers=admin["headers"])).json()
    assert body["tier"]["id"] == tiers["Silver"]
    assert body["next_tier"]["id"] == tiers["Gold"] and body["points_to_next_tier"] == 1400


async def test_list_filters_by_status_tier_and_community(client, admin):
    tiers = await make_tiers(client, admin["headers"])
    community = await make_community()
    ada = await make_advocate(client, admin["headers"], "Ada", points=700)
    bob = await make_advocate(client, admin["headers"], "Bob", points=10)
    cy = await make_advocate(client, admin["headers"], "Cy")
    await client.post(f"/v1/advocates/{cy['id']}/pause", headers=admin["headers"])
    async with session_scope() as session:
        session.add(Membership(member_id=bob["member_id"], community_id=community))

    async def ids(**query) -> list[int]:
        response = await client.get("/v1/advocates", params=query, headers=admin["headers"])
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert await ids() == [ada["id"], bob["id"], cy["id"]]
    assert await ids(status="paused") == [cy["id"]]
    assert await ids(status="active", tier_id=tiers["Bronze"]) == [bob["id"]]
    assert await ids(tier_id=tiers["Silver"]) == [ada["id"]]
    assert await ids(community_id=community) == [bob["id"]]
    bad = await client.get("/v1/advocates", params={"status": "sleeping"},
                           headers=admin["headers"])
    assert bad.status_code == 422


async def test_sorted_pages_follow_the_sort_across_ties(client, admin):
    points = [30, 50, 30, 10, 50, 30, 0]
    made = [await make_advocate(client, admin["headers"], f"A{i}", points=p)
            for i, p in enumerate(points)]
    expected = [a["id"] for a, _ in sorted(zip(made, points, strict=True),
                                            key=lambda pair: (-pair[1], pair[0]["id"]))]
    for sort in ("balance", "lifetime_points"):
        seen, cursor = [], None
        while True:
            params = {"sort": sort, "limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await client.get("/v1/advocates", params=params,
                                     headers=admin["headers"])).json()
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == expected
    # A cursor belongs to its order: it is refused with another one.
    first = (await client.get("/v1/advocates", params={"sort": "balance", "limit": 2},
                              headers=admin["headers"])).json()
    for sort in ("id", "lifetime_points"):
        response = await client.get("/v1/advocates", headers=admin["headers"], params={
            "sort": sort, "cursor": first["next_cursor"]})
        assert response.status_code == 422 and response.json()["type"] == "bad-cursor"
    garbage = await client.get("/v1/advocates", params={"cursor": "not-a-cursor"},
                               headers=admin["headers"])
    assert garbage.status_code == 422


async def test_status_transitions_and_the_ones_refused(client, admin):
    advocate = await make_advocate(client, admin["headers"])
    path = f"/v1/advocates/{advocate['id']}"

    async def act(action: str):
        return await client.post(f"{path}/{action}", headers=admin["headers"])

    assert (await act("resume")).status_code == 409
    paused = await act("pause")
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    assert (await act("pause")).status_code == 409
    assert (await act("resume")).json()["status"] == "active"
    assert (await act("remove")).json()["status"] == "removed"
    for action in ("pause", "resume", "remove"):
        refused = await act(action)
        assert refused.status_code == 409 and refused.json()["current_status"] == "removed"
    assert (await client.post("/v1/advocates/999/pause", headers=admin["headers"])).status_code \
        == 404


async def test_the_ledger_explains_the_balance_newest_first(client, admin):
    community = await make_community()
    advocate = await make_advocate(client, admin["headers"])
    async with session_scope() as session:
        incentive = Incentive(name="Talks", kind="points_rule", status="active", version=2)
        session.add(incentive)
        reward = Reward(name="Mug", cost_points=30)
        session.add(reward)
        await session.flush()
        incentive_id, reward_id = incentive.id, reward.id
    entry_id = await award(advocate["id"], 100, community_id=community,
                           incentive_id=incentive_id, incentive_version=2)
    async with session_scope() as session:
        activity_id = (await session.get(LedgerEntry, entry_id)).activity_id
        redemption = Redemption(advocate_id=advocate["id"], reward_id=reward_id, cost_points=30)
        session.add(redemption)
        await session.flush()
        await post(session, Posting(advocate_id=advocate["id"], kind=EntryKind.redemption,
                                    points=-30, reason="Redeemed Mug",
                                    idempotency_key="r:1", redemption_id=redemption.id))
        redemption_id = redemption.id
    adjusted = await client.post(f"/v1/advocates/{advocate['id']}/adjustments",
                                 json={"points": 5, "reason": "Helped at the door"},
                                 headers=admin["headers"])
    assert adjusted.status_code == 201

    response = await client.get(f"/v1/advocates/{advocate['id']}/ledger",
                                headers=admin["headers"])
    items = response.json()["items"]
    assert [(e["kind"], e["points"]) for e in items] == [
        ("adjustment", 5), ("redemption", -30), ("award", 100)]
    assert items[0]["staff_user"] == {"id": admin["id"], "name": "Admin"}
    assert items[0]["reason"] == "Helped at the door"
    assert items[1]["redemption"] == {"id": redemption_id, "reward_id": reward_id,
                                      "reward_name": "Mug"}
    assert items[2]["activity"] == {"id": activity_id, "kind": "talk_given"}
    assert items[2]["incentive"] == {"id": incentive_id, "name": "Talks", "version": 2}
    assert sum(e["points"] for e in items) == 75

    first = (await client.get(f"/v1/advocates/{advocate['id']}/ledger", params={"limit": 2},
                              headers=admin["headers"])).json()
    rest = (await client.get(f"/v1/advocates/{advocate['id']}/ledger",
                             params={"limit": 2, "cursor": first["next_cursor"]},
                             headers=admin["headers"])).json()
    assert [e["id"] for e in first["items"] + rest["items"]] == [e["id"] for e in items]
    assert rest["next_cursor"] is None
    assert (await client.get("/v1/advocates/999/ledger", headers=admin["headers"])).status_code \
        == 404


async def test_access_links_are_shown_once_stored_hashed_expire_and_revoke(client, admin):
    advocate = await make_advocate(client, admin["headers"])
    response = await client.post(f"/v1/advocates/{advocate['id']}/access-link",
                                 json={"expires_in_days": 7}, headers=admin["headers"])
    assert response.status_code == 201
    link = response.json()
    assert link["url"] == f"http://127.0.0.1:8080/a/{link['token']}"
    async with session_scope() as session:
        stored = (await session.exec(select(AdvocateAccessLink))).scalars().one()
    assert stored.token_hash != link["token"] and len(stored.token_hash) == 64
    assert stored.created_by_id == admin["id"]
    assert timedelta(days=6, hours=23) < stored.expires_at - utcnow() <= timedelta(days=7)
    headers = {"Authorization": f"Bearer {link['token']}"}
    assert (await client.get("/v1/me", headers=headers)).status_code == 200

    second = await access_headers(client, admin["headers"], advocate["id"])
    revoked = await client.post(f"/v1/advocates/{advocate['id']}/access-links/revoke",
                                headers=admin["headers"])
    assert revoked.json() == {"revoked": 2}
    for each in (headers, second):
        assert (await client.get("/v1/me", headers=each)).status_code == 401

    expiring = await access_headers(client, admin["headers"], advocate["id"])
    async with session_scope() as session:
        await session.exec(update(AdvocateAccessLink).values(expires_at=utcnow()))
    assert (await client.get("/v1/me", headers=expiring)).status_code == 401

    for body in [{"expires_in_days": 0}, {"expires_in_days": 366}, {"ttl": 3}]:
        bad = await client.post(f"/v1/advocates/{advocate['id']}/access-link", json=body,
                                headers=admin["headers"])
        assert bad.status_code == 422, body
    await client.post(f"/v1/advocates/{advocate['id']}/remove", headers=admin["headers"])
    removed = await client.post(f"/v1/advocates/{advocate['id']}/access-link",
                                headers=admin["headers"])
    assert removed.status_code == 409
    assert (await client.post("/v1/advocates/999/access-link",
                              headers=admin["headers"])).status_code == 404


async def test_refusals_for_every_advocates_endpoint(client, admin, make_staff, make_api_key):
    advocate = await make_advocate(client, admin["headers"])
    member_id = await make_member("Other")
    base = f"/v1/advocates/{advocate['id']}"
    reads = [("GET", "/v1/advocates", None), ("GET", base, None), ("GET", f"{base}/ledger", None),
             ("GET", f"{base}/access-links", None)]
    writes = [
        ("POST", "/v1/advocates", {"member_id": member_id}),
        ("POST", f"{base}/pause", None), ("POST", f"{base}/resume", None),
        ("POST", f"{base}/remove", None),
        ("POST", f"{base}/adjustments", {"points": 5, "reason": "why not"}),
        ("POST", f"{base}/access-link", None), ("POST", f"{base}/access-links/revoke", None),
        ("POST", f"{base}/access-links/{{link_id}}/revoke", None),
    ]
    viewer = (await make_staff("viewer"))["headers"]
    moderator = (await make_staff("moderator"))["headers"]
    wrong_key = await make_api_key("rewards:read", "redemptions:write")
    read_key = await make_api_key("advocates:read")
    link = await access_headers(client, admin["headers"], advocate["id"])
    link_id = (await client.get(f"{base}/access-links", headers=admin["headers"])) \
        .json()["items"][0]["id"]

    async def call(method, path, body, headers):
        return await client.request(method, path.format(link_id=link_id), json=body,
                                    headers=headers)

    for method, path, body in reads + writes:
        assert (await call(method, path, body, {})).status_code == 401, path
        assert (await call(method, path, body, wrong_key)).status_code == 403, path
        assert (await call(method, path, body, link)).status_code == 403, path
    for method, path, body in reads:
        for headers in (viewer, moderator, read_key):
            assert (await call(method, path, body, headers)).status_code == 200, path
    for method, path, body in writes:
        for headers in (viewer, moderator, read_key):
            assert (await call(method, path, body, headers)).status_code == 403, path
    # Nothing the refused writes asked for happened.
    assert await count_rows(Advocate) == 1
    async with session_scope() as session:
        assert (await session.get(Advocate, advocate["id"])).status == "active"
        assert (await session.get(AdvocateAccessLink, link_id)).revoked_at is None


async def test_a_manager_and_a_scoped_api_key_may_write(client, make_staff, make_api_key):
    manager = (await make_staff("manager"))["headers"]
    key = await make_api_key("advocates:write", "advocates:read")
    for headers in (manager, key):
        advocate = await enrol(client, headers, await make_member())
        paused = await client.post(f"/v1/advocates/{advocate['id']}/pause", headers=headers)
        assert paused.status_code == 200


async def test_access_links_are_listed_without_tokens_and_revoked_one_at_a_time(client, admin):
    h = admin["headers"]
    advocate = await make_advocate(client, h)
    other = await make_advocate(client, h, "Bo")
    base = f"/v1/advocates/{advocate['id']}"
    kept = await access_headers(client, h, advocate["id"])
    revoked = await access_headers(client, h, advocate["id"])
    expired = await access_headers(client, h, advocate["id"])
    others = await access_headers(client, h, other["id"])
    async with session_scope() as session:
        links = (await session.exec(select(AdvocateAccessLink).where(
            AdvocateAccessLink.advocate_id == advocate["id"])
            .order_by(AdvocateAccessLink.id))).scalars().all()
        kept_id, revoked_id, expired_id = (link.id for link in links)
        await session.exec(update(AdvocateAccessLink)
                           .where(AdvocateAccessLink.id == expired_id)
                           .values(expires_at=utcnow() - timedelta(minutes=1)))
        other_link_id = (await session.exec(select(AdvocateAccessLink.id).where(
            AdvocateAccessLink.advocate_id == other["id"]))).scalar_one()

    one = await client.post(f"{base}/access-links/{revoked_id}/revoke", headers=h)
    assert one.status_code == 200 and one.json() == {"revoked": 1}
    assert (await client.post(f"{base}/access-links/{revoked_id}/revoke",
                              headers=h)).json() == {"revoked": 0}
    assert (await client.get("/v1/me", headers=revoked)).status_code == 401
    for still in (kept, others):
        assert (await client.get("/v1/me", headers=still)).status_code == 200
    assert (await client.get("/v1/me", headers=expired)).status_code == 401

    page = (await client.get(f"{base}/access-links", headers=h)).json()
    assert [item["id"] for item in page["items"]] == [expired_id, revoked_id, kept_id]
    by_id = {item["id"]: item for item in page["items"]}
    assert by_id[kept_id]["active"] and by_id[kept_id]["revoked_at"] is None
    assert not by_id[revoked_id]["active"] and by_id[revoked_id]["revoked_at"]
    assert not by_id[expired_id]["active"] and by_id[expired_id]["revoked_at"] is None
    assert all("token" not in item and "token_hash" not in item for item in page["items"])
    assert by_id[kept_id]["created_by_id"] == admin["id"]
    paged = (await client.get(f"{base}/access-links", params={"limit": 2}, headers=h)).json()
    assert len(paged["items"]) == 2 and paged["next_cursor"]

    # Another advocate's link, or no link at all, is not found and nothing is revoked.
    for path in (f"{base}/access-links/{other_link_id}/revoke", f"{base}/access-links/999/revoke",
                 f"/v1/advocates/999/access-links/{kept_id}/revoke"):
        assert (await client.post(path, headers=h)).status_code == 404, path
    assert (await client.get("/v1/advocates/999/access-links", headers=h)).status_code == 404
    for still in (kept, others):
        assert (await client.get("/v1/me", headers=still)).status_code == 200
