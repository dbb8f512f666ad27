from sqlalchemy import select

from shared.db import session_scope
from shared.models import LedgerEntry, Member, Redemption
from tests.api.advocacy import (
    access_headers,
    count_rows,
    make_advocate,
    make_reward,
    points_state,
    reward_stock,
)


async def redeem(client, headers, advocate_id, reward_id):
    return await client.post("/v1/redemptions", json={"advocate_id": advocate_id,
                                                      "reward_id": reward_id}, headers=headers)


async def act(client, headers, redemption_id, action, body=None):
    return await client.post(f"/v1/redemptions/{redemption_id}/{action}", json=body,
                             headers=headers)


async def balance(advocate_id) -> int:
    state = await points_state(advocate_id)
    assert state["balance"] == state["ledger"] >= 0
    return state["balance"]


async def test_lifecycle_with_approval_keeps_exact_balances_and_stock(client, admin):
    h = admin["headers"]
    advocate = await make_advocate(client, h, points=1000)
    ticket = await make_reward(client, h, name="Ticket", cost_points=300, stock=5,
                               requires_approval=True)
    response = await redeem(client, h, advocate["id"], ticket["id"])
    assert response.status_code == 201
    first = response.json()
    assert first["status"] == "requested" and first["cost_points"] == 300
    assert first["advocate_name"] == "Ada Lovelace" and first["reward_name"] == "Ticket"
    assert await balance(advocate["id"]) == 700 and await reward_stock(ticket["id"]) == 4

    approved = (await act(client, h, first["id"], "approve")).json()
    assert approved["status"] == "approved" and approved["decided_by_id"] == admin["id"]
    fulfilled = (await act(client, h, first["id"], "fulfil")).json()
    assert fulfilled["status"] == "fulfilled" and fulfilled["fulfilled_at"]
    assert await balance(advocate["id"]) == 700 and await reward_stock(ticket["id"]) == 4

    second = (await redeem(client, h, advocate["id"], ticket["id"])).json()
    rejected = await act(client, h, second["id"], "reject", {"reason": "Sold out locally"})
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["reason"] == "Sold out locally"
    assert await balance(advocate["id"]) == 700 and await reward_stock(ticket["id"]) == 4

    third = (await redeem(client, h, advocate["id"], ticket["id"])).json()
    await act(client, h, third["id"], "approve")
    cancelled = await act(client, h, third["id"], "cancel")
    assert cancelled.json()["status"] == "cancelled"
    assert await balance(advocate["id"]) == 700 and await reward_stock(ticket["id"]) == 4
    # The lifetime points (and so the tier) never moved.
    assert (await points_state(advocate["id"]))["lifetime"] == 1000

    async with session_scope() as session:
        entries = (await session.exec(select(LedgerEntry.kind, LedgerEntry.points,
                                             LedgerEntry.redemption_id)
                                      .where(LedgerEntry.redemption_id.is_not(None))
                                      .order_by(LedgerEntry.id))).all()
    assert [tuple(e) for e in entries] == [
        ("redemption", -300, first["id"]), ("redemption", -300, second["id"]),
        ("refund", 300, second["id"]), ("redemption", -300, third["id"]),
        ("refund", 300, third["id"])]


async def test_every_other_transition_is_refused_and_refunds_happen_once(client, admin):
    h = admin["headers"]
    advocate = await make_advocate(client, h, points=1000)
    reward = await make_reward(client, h, cost_points=100, stock=3, requires_approval=True)
    requested = (await redeem(client, h, advocate["id"], reward["id"])).json()
    assert (await act(client, h, requested["id"], "fulfil")).status_code == 409
    await act(client, h, requested["id"], "reject", {"reason": "No"})
    for action, body in [("reject", {"reason": "Again"}), ("cancel", None), ("approve", None),
                         ("fulfil", None)]:
        response = await act(client, h, requested["id"], action, body)
        assert response.status_code == 409, action
        assert response.json()["current_status"] == "rejected"
    assert await balance(advocate["id"]) == 1000 and await reward_stock(reward["id"]) == 3

    done = (await redeem(client, h, advocate["id"], reward["id"])).json()
    await act(client, h, done["id"], "approve")
    assert (await act(client, h, done["id"], "approve")).status_code == 409
    await act(client, h, done["id"], "fulfil")
    for action, body in [("cancel", None), ("reject", {"reason": "late"}), ("fulfil", None)]:
        assert (await act(client, h, done["id"], action, body)).status_code == 409, action
    assert await balance(advocate["id"]) == 900 and await reward_stock(reward["id"]) == 2
    assert (await act(client, h, 999, "approve")).status_code == 404
    assert (await act(client, h, done["id"], "reject", {})).status_code == 422
    assert (await act(client, h, done["id"], "reject", {"reason": ""})).status_code == 422


async def test_a_reward_without_approval_is_approved_at_once(client, admin):
    h = admin["headers"]
    advocate = await make_advocate(client, h, points=50)
    sticker = await make_reward(client, h, name="Sticker", cost_points=20)
    response = (await redeem(client, h, advocate["id"], sticker["id"])).json()
    assert response["status"] == "approved" and response["decided_at"]
    assert (await act(client, h, response["id"], "fulfil")).json()["status"] == "fulfilled"
    assert await balance(advocate["id"]) == 30 and await reward_stock(sticker["id"]) is None


async def test_refused_requests_leave_nothing_behind(client, admin):
    h = admin["headers"]
    advocate = await make_advocate(client, h, points=100)
    pricey = await make_reward(client, h, name="Laptop", cost_points=101, stock=1)
    gone = await make_reward(client, h, name="Gone", cost_points=10, stock=0)
    retired = await make_reward(client, h, name="Retired", cost_points=10)
    await client.post(f"/v1/rewards/{retired['id']}/deactivate", headers=h)
    paused = await make_advocate(client, h, "Pat", points=100)
    await client.post(f"/v1/advocates/{paused['id']}/pause", headers=h)
    cheap = await make_reward(client, h, name="Pin", cost_points=1)

    cases = [
        (advocate["id"], pricey["id"], 409, "insufficient-points"),
        (advocate["id"], gone["id"], 409, "out-of-stock"),
        (advocate["id"], retired["id"], 409, "reward-inactive"),
        (paused["id"], cheap["id"], 409, "advocate-not-active"),
        (advocate["id"], 999, 422, "validation-error"),
        (999, cheap["id"], 422, "validation-error"),
    ]
    for advocate_id, reward_id, status, kind in cases:
        response = await redeem(client, h, advocate_id, reward_id)
        assert response.status_code == status, (reward_id, response.text)
        assert response.json()["type"] == kind
    for body in [{}, {"advocate_id": advocate["id"]}, {"reward_id": cheap["id"]},
                 {"advocate_id": advocate["id"], "reward_id": cheap["id"], "note": "pls"}]:
        assert (await client.post("/v1/redemptions", json=body, headers=h)).status_code == 422
    assert await count_rows(Redemption) == 0
    assert await reward_stock(pricey["id"]) == 1
    assert await count_rows(LedgerEntry) == 2  # the two awards
    assert await balance(advocate["id"]) == 100


async def test_per_member_limit_counts_only_redemptions_that_hold_points(client, admin):
    h = admin["headers"]
    advocate = await make_advocate(client, h, points=1000)
    other = await make_advocate(client, h, "Bo", points=1000)
    hoodie = await make_reward(client, h, name="Hoodie", cost_points=100, per_member_limit=2,
                               requires_approval=True)
    first = (await redeem(client, h, advocate["id"], hoodie["id"])).json()
    await redeem(client, h, advocate["id"], hoodie["id"])
    third = await redeem(client, h, advocate["id"], hoodie["id"])
    assert third.status_code == 409 and third.json()["type"] == "limit-reached"
    assert (await redeem(client, h, other["id"], hoodie["id"])).status_code == 201
    await act(client, h, first["id"], "reject", {"reason": "Wrong size"})
    assert (await redeem(client, h, advocate["id"], hoodie["id"])).status_code == 201
    assert await balance(advocate["id"]) == 800


async def test_list_filters_and_detail(client, admin):
    h = admin["headers"]
    ada = await make_advocate(client, h, points=1000)
    bo = await make_advocate(client, h, "Bo", points=1000)
    mug = await make_reward(client, h, name="Mug", cost_points=10, requires_approval=True)
    cap = await make_reward(client, h, name="Cap", cost_points=10)
    r1 = (await redeem(client, h, ada["id"], mug["id"])).json()
    r2 = (await redeem(client, h, bo["id"], mug["id"])).json()
    r3 = (await redeem(client, h, ada["id"], cap["id"])).json()

    async def ids(**params):
        response = await client.get("/v1/redemptions", params=params, headers=h)
        assert response.status_code == 200, response.text
        return [r["id"] for r in response.json()["items"]]

    assert await ids() == [r1["id"], r2["id"], r3["id"]]
    assert await ids(status="requested") == [r1["id"], r2["id"]]
    assert await ids(advocate_id=ada["id"]) == [r1["id"], r3["id"]]
    assert await ids(reward_id=cap["id"]) == [r3["id"]]
    assert await ids(advocate_id=bo["id"], reward_id=cap["id"]) == []
    page = (await client.get("/v1/redemptions", params={"limit": 2}, headers=h)).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    assert (await client.get("/v1/redemptions", params={"status": "lost"},
                             headers=h)).status_code == 422
    assert (await client.get(f"/v1/redemptions/{r2['id']}", headers=h)).json() == r2
    assert (await client.get("/v1/redemptions/999", headers=h)).status_code == 404


async def test_refusals(client, admin, make_staff, make_api_key):
    h = admin["headers"]
    advocate = await make_advocate(client, h, points=500)
    reward = await make_reward(client, h, cost_points=10, requires_approval=True)
    existing = (await redeem(client, h, advocate["id"], reward["id"])).json()
    path = f"/v1/redemptions/{existing['id']}"
    reads = [("GET", "/v1/redemptions", None), ("GET", path, None)]
    writes = [("POST", "/v1/redemptions", {"advocate_id": advocate["id"],
                                           "reward_id": reward["id"]}),
              ("POST", f"{path}/approve", None), ("POST", f"{path}/reject", {"reason": "no"}),
              ("POST", f"{path}/fulfil", None), ("POST", f"{path}/cancel", None)]
    viewer = (await make_staff("viewer"))["headers"]
    moderator = (await make_staff("moderator"))["headers"]
    read_key = await make_api_key("redemptions:read")
    wrong_key = await make_api_key("rewards:write", "advocates:write")
    link = await access_headers(client, h, advocate["id"])
    for method, url, body in reads + writes:
        for headers, status in [({}, 401), (wrong_key, 403), (link, 403)]:
            response = await client.request(method, url, json=body, headers=headers)
            assert response.status_code == status, (method, url)
    for method, url, _ in reads:
        for headers in (viewer, moderator, read_key):
            assert (await client.request(method, url, headers=headers)).status_code == 200
    for method, url, body in writes:
        for headers in (viewer, moderator, read_key):
            response = await client.request(method, url, json=body, headers=headers)
            assert response.status_code == 403, (method, url)
    assert await count_rows(Redemption) == 1
    assert (await client.get(path, headers=h)).json()["status"] == "requested"
    assert await balance(advocate["id"]) == 490

    write_key = await make_api_key("redemptions:write")
    manager = (await make_staff("manager"))["headers"]
    assert (await act(client, manager, existing["id"], "approve")).status_code == 200
    assert (await redeem(client, write_key, advocate["id"], reward["id"])).status_code == 201


async def test_a_replay_with_the_same_idempotency_key_changes_nothing(client, admin):
    h = admin["headers"]
    advocate = await make_advocate(client, h, points=500)
    reward = await make_reward(client, h, cost_points=100, stock=5)
    keyed = {**h, "Idempotency-Key": "crm-redeem-1"}
    first = await redeem(client, keyed, advocate["id"], reward["id"])
    again = await redeem(client, keyed, advocate["id"], reward["id"])
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert await count_rows(Redemption) == 1
    assert await balance(advocate["id"]) == 400 and await reward_stock(reward["id"]) == 4
    other = await redeem(client, keyed, advocate["id"], reward["id"] + 1)
    assert other.status_code == 422 and other.json()["type"] == "idempotency-key-reused"
    # Another key is another redemption.
    fresh = await redeem(client, {**h, "Idempotency-Key": "crm-redeem-2"}, advocate["id"],
                         reward["id"])
    assert fresh.status_code == 201 and fresh.json()["id"] != first.json()["id"]
    assert await balance(advocate["id"]) == 300 and await reward_stock(reward["id"]) == 3


async def test_removing_an_advocate_cancels_what_is_pending_with_one_refund_each(client, admin):
    h = admin["headers"]
    advocate = await make_advocate(client, h, points=1000)
    other = await make_advocate(client, h, "Bo", points=1000)
    hoodie = await make_reward(client, h, name="Hoodie", cost_points=100, stock=5,
                               requires_approval=True)
    sticker = await make_reward(client, h, name="Sticker", cost_points=20)
    mug = await make_reward(client, h, name="Mug", cost_points=50)
    requested = (await redeem(client, h, advocate["id"], hoodie["id"])).json()
    approved = (await redeem(client, h, advocate["id"], sticker["id"])).json()
    fulfilled = (await redeem(client, h, advocate["id"], mug["id"])).json()
    await act(client, h, fulfilled["id"], "fulfil")
    others = (await redeem(client, h, other["id"], hoodie["id"])).json()
    assert await balance(advocate["id"]) == 830 and await reward_stock(hoodie["id"]) == 3

    removed = await client.post(f"/v1/advocates/{advocate['id']}/remove", headers=h)
    assert removed.status_code == 200 and removed.json()["status"] == "removed"
    statuses = {r["id"]: r["status"] for r in (await client.get(
        "/v1/redemptions", params={"advocate_id": advocate["id"]}, headers=h)).json()["items"]}
    assert statuses == {requested["id"]: "cancelled", approved["id"]: "cancelled",
                        fulfilled["id"]: "fulfilled"}
    assert (await client.get(f"/v1/redemptions/{others['id']}", headers=h)).json()["status"] \
        == "requested"
    # Only what was handed over stays spent; the hoodie is back in stock.
    assert await balance(advocate["id"]) == 950
    assert await reward_stock(hoodie["id"]) == 4
    async with session_scope() as session:
        refunds = (await session.exec(select(LedgerEntry).where(
            LedgerEntry.advocate_id == advocate["id"], LedgerEntry.kind == "refund"))).scalars()
    assert sorted(entry.redemption_id for entry in refunds) == [requested["id"], approved["id"]]

    # Removing twice is refused and refunds nothing again; re-enrolling keeps the balance.
    assert (await client.post(f"/v1/advocates/{advocate['id']}/remove",
                              headers=h)).status_code == 409
    assert await balance(advocate["id"]) == 950
    again = await client.post("/v1/advocates", json={"member_id": advocate["member_id"]},
                              headers=h)
    assert again.status_code == 200 and again.json()["balance"] == 950


async def test_paused_removed_and_banned_cannot_redeem_and_nothing_changes(client, admin):
    h = admin["headers"]
    pin = await make_reward(client, h, name="Pin", cost_points=10, stock=3)
    paused = await make_advocate(client, h, "Pat", points=100)
    paused_link = await access_headers(client, h, paused["id"])
    await client.post(f"/v1/advocates/{paused['id']}/pause", headers=h)
    removed = await make_advocate(client, h, "Rae", points=100)
    await client.post(f"/v1/advocates/{removed['id']}/remove", headers=h)
    banned = await make_advocate(client, h, "Ben", points=100)
    banned_link = await access_headers(client, h, banned["id"])
    async with session_scope() as session:
        member = await session.get(Member, banned["member_id"])
        member.status = "banned"
        session.add(member)

    cases = [(paused["id"], "advocate-not-active"), (removed["id"], "advocate-not-active"),
             (banned["id"], "member-banned")]
    for advocate_id, kind in cases:
        response = await redeem(client, h, advocate_id, pin["id"])
        assert response.status_code == 409, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == kind
    # The advocate's own link is refused the same way.
    for link, kind in [(paused_link, "advocate-not-active"), (banned_link, "member-banned")]:
        response = await client.post("/v1/me/redemptions", json={"reward_id": pin["id"]},
                                     headers=link)
        assert response.status_code == 409 and response.json()["type"] == kind
    assert await count_rows(Redemption) == 0
    assert await reward_stock(pin["id"]) == 3
    for advocate in (paused, removed, banned):
        assert await balance(advocate["id"]) == 100
