from shared.models import Redemption
from tests.api.advocacy import (
    access_headers,
    award,
    count_rows,
    make_advocate,
    make_reward,
    points_state,
    reward_stock,
)


async def setup(client, admin, points=500):
    advocate = await make_advocate(client, admin["headers"], points=points)
    return advocate, await access_headers(client, admin["headers"], advocate["id"])


async def test_my_status_shows_balance_tier_and_progress(client, admin):
    h = admin["headers"]
    await client.post("/v1/tiers", json={"name": "Bronze", "min_lifetime_points": 0}, headers=h)
    await client.post("/v1/tiers", json={"name": "Silver", "min_lifetime_points": 800},
                      headers=h)
    advocate, me = await setup(client, admin)
    response = await client.get("/v1/me", headers=me)
    assert response.status_code == 200
    body = response.json()
    assert body == (await client.get(f"/v1/advocates/{advocate['id']}", headers=h)).json()
    assert body["balance"] == 500 and body["tier"]["name"] == "Bronze"
    assert body["next_tier"]["name"] == "Silver" and body["points_to_next_tier"] == 300
    whoami = (await client.get("/v1/auth/me", headers=me)).json()
    assert whoami == {"kind": "advocate", "id": advocate["id"], "name": "Ada Lovelace",
                      "role": None, "permissions": []}


async def test_my_ledger_and_the_rewards_i_can_afford(client, admin):
    h = admin["headers"]
    advocate, me = await setup(client, admin, points=100)
    await award(advocate["id"], 20, kind="bonus")
    ledger = (await client.get("/v1/me/ledger", headers=me)).json()
    assert [(e["kind"], e["points"]) for e in ledger["items"]] == [("bonus", 20), ("award", 100)]
    mug = await make_reward(client, h, name="Mug", cost_points=120)
    await make_reward(client, h, name="Laptop", cost_points=121)
    await make_reward(client, h, name="Gone", cost_points=5, stock=0)
    retired = await make_reward(client, h, name="Retired", cost_points=1)
    await client.post(f"/v1/rewards/{retired['id']}/deactivate", headers=h)
    rewards = (await client.get("/v1/me/rewards", headers=me)).json()["items"]
    assert [(r["name"], r["affordable"], r["in_stock"]) for r in rewards] == [
        ("Mug", True, True), ("Laptop", False, True), ("Gone", True, False)]
    assert rewards[0]["id"] == mug["id"]


async def test_i_redeem_and_cancel_my_own_requested_redemptions(client, admin):
    h = admin["headers"]
    advocate, me = await setup(client, admin, points=500)
    ticket = await make_reward(client, h, name="Ticket", cost_points=200, stock=3,
                               requires_approval=True)
    sticker = await make_reward(client, h, name="Sticker", cost_points=10)
    response = await client.post("/v1/me/redemptions", json={"reward_id": ticket["id"]},
                                 headers=me)
    assert response.status_code == 201
    requested = response.json()
    assert requested["status"] == "requested" and requested["advocate_id"] == advocate["id"]
    instant = (await client.post("/v1/me/redemptions", json={"reward_id": sticker["id"]},
                                 headers=me)).json()
    assert instant["status"] == "approved"
    assert await points_state(advocate["id"]) == {"balance": 290, "ledger": 290, "lifetime": 500}

    mine = (await client.get("/v1/me/redemptions", headers=me)).json()["items"]
    assert [r["id"] for r in mine] == [instant["id"], requested["id"]]
    assert (await client.get(f"/v1/me/redemptions/{requested['id']}", headers=me)).json() \
        == requested

    cancelled = await client.post(f"/v1/me/redemptions/{requested['id']}/cancel", headers=me)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["decided_by_id"] is None
    assert await points_state(advocate["id"]) == {"balance": 490, "ledger": 490, "lifetime": 500}
    assert await reward_stock(ticket["id"]) == 3
    # Once approved, only staff may cancel.
    refused = await client.post(f"/v1/me/redemptions/{instant['id']}/cancel", headers=me)
    assert refused.status_code == 409
    again = await client.post(f"/v1/me/redemptions/{requested['id']}/cancel", headers=me)
    assert again.status_code == 409
    assert await points_state(advocate["id"]) == {"balance": 490, "ledger": 490, "lifetime": 500}


async def test_refused_redemptions_leave_nothing(client, admin):
    h = admin["headers"]
    _, me = await setup(client, admin, points=50)
    pricey = await make_reward(client, h, cost_points=51, stock=1)
    for body, status in [({"reward_id": pricey["id"]}, 409), ({"reward_id": 999}, 422),
                         ({}, 422), ({"reward_id": pricey["id"], "advocate_id": 1}, 422)]:
        response = await client.post("/v1/me/redemptions", json=body, headers=me)
        assert response.status_code == status, body
    assert await count_rows(Redemption) == 0 and await reward_stock(pricey["id"]) == 1


async def test_other_advocates_redemptions_do_not_exist_for_me(client, admin):
    h = admin["headers"]
    _, me = await setup(client, admin)
    other, other_me = await setup(client, admin)
    reward = await make_reward(client, h, cost_points=10, requires_approval=True)
    theirs = (await client.post("/v1/me/redemptions", json={"reward_id": reward["id"]},
                                headers=other_me)).json()
    assert (await client.get(f"/v1/me/redemptions/{theirs['id']}", headers=me)).status_code \
        == 404
    refused = await client.post(f"/v1/me/redemptions/{theirs['id']}/cancel", headers=me)
    assert refused.status_code == 404
    assert (await client.get("/v1/me/redemptions", headers=me)).json()["items"] == []
    assert (await client.get(f"/v1/redemptions/{theirs['id']}", headers=h)).json()["status"] \
        == "requested"
    assert await points_state(other["id"]) == {"balance": 490, "ledger": 490, "lifetime": 500}


async def test_the_link_opens_nothing_but_me(client, admin):
    h = admin["headers"]
    advocate, me = await setup(client, admin)
    other = await make_advocate(client, h, "Bo")
    staff_endpoints = [
        ("GET", f"/v1/advocates/{advocate['id']}"), ("GET", f"/v1/advocates/{other['id']}"),
        ("GET", f"/v1/advocates/{advocate['id']}/ledger"), ("GET", "/v1/advocates"),
        ("POST", f"/v1/advocates/{advocate['id']}/access-link"),
        ("GET", "/v1/redemptions"), ("GET", "/v1/rewards"), ("GET", "/v1/tiers"),
        ("GET", "/v1/members"), ("GET", "/v1/communities"),
        ("GET", "/v1/staff"), ("GET", "/v1/api-keys"),
    ]
    for method, path in staff_endpoints:
        assert (await client.request(method, path, headers=me)).status_code == 403, path


async def test_staff_keys_and_strangers_do_not_reach_me(client, admin, make_api_key):
    key = await make_api_key("advocates:read", "redemptions:write")
    for path in ("/v1/me", "/v1/me/ledger", "/v1/me/rewards", "/v1/me/redemptions"):
        assert (await client.get(path)).status_code == 401
        bogus = {"Authorization": "Bearer hat_not-a-real-token"}
        assert (await client.get(path, headers=bogus)).status_code == 401
        assert (await client.get(path, headers=admin["headers"])).status_code == 403
        assert (await client.get(path, headers=key)).status_code == 403


async def test_paused_advocates_read_but_do_not_redeem_and_removed_ones_are_out(client, admin):
    h = admin["headers"]
    advocate, me = await setup(client, admin)
    reward = await make_reward(client, h, cost_points=10)
    await client.post(f"/v1/advocates/{advocate['id']}/pause", headers=h)
    assert (await client.get("/v1/me", headers=me)).json()["status"] == "paused"
    refused = await client.post("/v1/me/redemptions", json={"reward_id": reward["id"]},
                                headers=me)
    assert refused.status_code == 409 and refused.json()["type"] == "advocate-not-active"
    await client.post(f"/v1/advocates/{advocate['id']}/remove", headers=h)
    for path in ("/v1/me", "/v1/me/ledger", "/v1/me/redemptions"):
        assert (await client.get(path, headers=me)).status_code == 401
    assert await count_rows(Redemption) == 0
