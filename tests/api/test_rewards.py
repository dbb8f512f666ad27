from shared.models import Reward
from tests.api.advocacy import access_headers, count_rows, make_advocate, make_reward


async def test_catalogue_crud_with_deactivation_instead_of_deletion(client, admin):
    h = admin["headers"]
    ticket = await make_reward(client, h, name="Conference ticket", description="PyCon",
                               cost_points=2500, stock=10, per_member_limit=1,
                               requires_approval=True)
    assert {k: ticket[k] for k in ("name", "cost_points", "stock", "per_member_limit",
                                   "requires_approval", "active")} == {
        "name": "Conference ticket", "cost_points": 2500, "stock": 10, "per_member_limit": 1,
        "requires_approval": True, "active": True}
    mug = await make_reward(client, h, name="Mug")
    assert mug["stock"] is None and mug["per_member_limit"] is None
    assert mug["requires_approval"] is False

    updated = await client.patch(f"/v1/rewards/{ticket['id']}",
                                 json={"stock": None, "cost_points": 3000}, headers=h)
    assert updated.status_code == 200
    assert updated.json()["stock"] is None and updated.json()["cost_points"] == 3000
    assert updated.json()["description"] == "PyCon"

    off = await client.post(f"/v1/rewards/{mug['id']}/deactivate", headers=h)
    assert off.status_code == 200 and off.json()["active"] is False
    assert (await client.delete(f"/v1/rewards/{mug['id']}", headers=h)).status_code == 405

    async def names(**params):
        page = (await client.get("/v1/rewards", params=params, headers=h)).json()
        return [r["name"] for r in page["items"]]

    assert await names() == ["Conference ticket", "Mug"]
    assert await names(active=True) == ["Conference ticket"]
    assert await names(active=False) == ["Mug"]
    again = await client.patch(f"/v1/rewards/{mug['id']}", json={"active": True}, headers=h)
    assert again.json()["active"] is True
    assert (await client.get(f"/v1/rewards/{mug['id']}", headers=h)).json()["name"] == "Mug"
    assert (await client.get("/v1/rewards/999", headers=h)).status_code == 404
    assert (await client.post("/v1/rewards/999/deactivate", headers=h)).status_code == 404


async def test_bad_input_is_refused_and_leaves_nothing(client, admin):
    h = admin["headers"]
    for fields in [{"cost_points": 0}, {"cost_points": -5}, {"stock": -1},
                   {"per_member_limit": 0}, {"name": ""}, {"name": "x" * 201},
                   {"description": "x" * 5001}, {"price": 3}, {"cost_points": "lots"}]:
        response = await client.post("/v1/rewards", json={"name": "Mug", "cost_points": 10,
                                                          **fields}, headers=h)
        assert response.status_code == 422, fields
        assert response.headers["content-type"] == "application/problem+json"
    reward = await make_reward(client, h)
    for body in [{"name": None}, {"cost_points": None}, {"active": None},
                 {"requires_approval": None}, {"stock": -1}, {"price": 1}]:
        response = await client.patch(f"/v1/rewards/{reward['id']}", json=body, headers=h)
        assert response.status_code == 422, body
    assert await count_rows(Reward) == 1
    assert (await client.get(f"/v1/rewards/{reward['id']}", headers=h)).json() == reward


async def test_refusals(client, admin, make_staff, make_api_key):
    h = admin["headers"]
    reward = await make_reward(client, h)
    path = f"/v1/rewards/{reward['id']}"
    reads = [("GET", "/v1/rewards", None), ("GET", path, None)]
    writes = [("POST", "/v1/rewards", {"name": "Cap", "cost_points": 5}),
              ("PATCH", path, {"name": "Hoodie"}), ("POST", f"{path}/deactivate", None)]
    viewer = (await make_staff("viewer"))["headers"]
    moderator = (await make_staff("moderator"))["headers"]
    read_key = await make_api_key("rewards:read")
    wrong_key = await make_api_key("redemptions:write", "redemptions:read")
    link = await access_headers(client, h, (await make_advocate(client, h))["id"])
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
    assert (await client.get(path, headers=h)).json() == reward
    manager = (await make_staff("manager"))["headers"]
    assert (await make_reward(client, manager, name="Cap"))["name"] == "Cap"
