from shared.models import Tier
from tests.api.advocacy import access_headers, count_rows, make_advocate


async def create(client, headers, **fields):
    body = {"name": "Silver", "min_lifetime_points": 500, **fields}
    return await client.post("/v1/tiers", json=body, headers=headers)


async def tier_of(client, headers, advocate_id) -> str | None:
    body = (await client.get(f"/v1/advocates/{advocate_id}", headers=headers)).json()
    return body["tier"]["name"] if body["tier"] else None


async def test_create_read_update_and_list_lowest_first(client, admin):
    h = admin["headers"]
    created = await create(client, h, perks=["Badge", "Swag"], multiplier=1.25)
    assert created.status_code == 201
    silver = created.json()
    assert silver["perks"] == ["Badge", "Swag"] and silver["multiplier"] == 1.25
    gold = (await create(client, h, name="Gold", min_lifetime_points=2000, multiplier="2.5")).json()
    bronze = (await create(client, h, name="Bronze", min_lifetime_points=0)).json()
    assert bronze["multiplier"] == 1 and bronze["perks"] == []

    pages, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/tiers", params=params, headers=h)).json()
        pages.append([t["name"] for t in page["items"]])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert pages == [["Bronze", "Silver"], ["Gold"]]

    updated = await client.patch(f"/v1/tiers/{gold['id']}",
                                 json={"perks": ["Keynote slot"], "multiplier": 3}, headers=h)
    assert updated.status_code == 200
    assert updated.json()["perks"] == ["Keynote slot"] and updated.json()["multiplier"] == 3
    assert updated.json()["name"] == "Gold" and updated.json()["min_lifetime_points"] == 2000
    fetched = await client.get(f"/v1/tiers/{silver['id']}", headers=h)
    assert fetched.json() == silver
    assert (await client.get("/v1/tiers/999", headers=h)).status_code == 404
    assert (await client.patch("/v1/tiers/999", json={"name": "X"}, headers=h)).status_code == 404


async def test_names_and_thresholds_are_unique(client, admin):
    h = admin["headers"]
    silver = (await create(client, h)).json()
    await create(client, h, name="Gold", min_lifetime_points=2000)
    same_name = await create(client, h, min_lifetime_points=700)
    assert same_name.status_code == 409 and same_name.json()["field"] == "name"
    same_floor = await create(client, h, name="Platinum")
    assert same_floor.status_code == 409 and same_floor.json()["field"] == "min_lifetime_points"
    clash = await client.patch(f"/v1/tiers/{silver['id']}", json={"min_lifetime_points": 2000},
                               headers=h)
    assert clash.status_code == 409
    # A tier may keep its own name and threshold.
    itself = await client.patch(f"/v1/tiers/{silver['id']}",
                                json={"name": "Silver", "min_lifetime_points": 500}, headers=h)
    assert itself.status_code == 200
    assert await count_rows(Tier) == 2


async def test_bad_input_is_refused_and_leaves_nothing(client, admin):
    h = admin["headers"]
    bad = [
        {"multiplier": 0}, {"multiplier": -1}, {"multiplier": 10.001}, {"multiplier": 1.2345},
        {"min_lifetime_points": -1}, {"name": ""}, {"name": "x" * 101},
        {"perks": [""]}, {"perks": ["x" * 201]}, {"perks": "Badge"}, {"colour": "silver"},
    ]
    for fields in bad:
        response = await create(client, h, **fields)
        assert response.status_code == 422, fields
    assert (await create(client, h, multiplier=10)).status_code == 201
    tier_id = (await client.get("/v1/tiers", headers=h)).json()["items"][0]["id"]
    for body in [{"name": None}, {"multiplier": None}, {"min_lifetime_points": None},
                 {"perks": None}, {"colour": "x"}]:
        response = await client.patch(f"/v1/tiers/{tier_id}", json=body, headers=h)
        assert response.status_code == 422, body
    assert await count_rows(Tier) == 1


async def test_new_and_lowered_tiers_promote_at_once_and_never_demote(client, admin):
    h = admin["headers"]
    rich = await make_advocate(client, h, "Rich", points=800)
    poor = await make_advocate(client, h, "Poor", points=100)
    assert await tier_of(client, h, rich["id"]) is None
    silver = (await create(client, h, min_lifetime_points=500)).json()
    assert await tier_of(client, h, rich["id"]) == "Silver"
    assert await tier_of(client, h, poor["id"]) is None
    gold = (await create(client, h, name="Gold", min_lifetime_points=1000)).json()
    assert await tier_of(client, h, rich["id"]) == "Silver"
    await client.patch(f"/v1/tiers/{gold['id']}", json={"min_lifetime_points": 750}, headers=h)
    assert await tier_of(client, h, rich["id"]) == "Gold"
    # Raising thresholds above their points takes nothing away.
    await client.patch(f"/v1/tiers/{gold['id']}", json={"min_lifetime_points": 5000}, headers=h)
    await client.patch(f"/v1/tiers/{silver['id']}", json={"min_lifetime_points": 4000}, headers=h)
    assert await tier_of(client, h, rich["id"]) == "Gold"
    await client.patch(f"/v1/tiers/{silver['id']}", json={"min_lifetime_points": 50}, headers=h)
    assert await tier_of(client, h, poor["id"]) == "Silver"


async def test_a_held_tier_cannot_be_deleted(client, admin):
    h = admin["headers"]
    silver = (await create(client, h)).json()
    unused = (await create(client, h, name="Gold", min_lifetime_points=9000)).json()
    await make_advocate(client, h, points=600)
    held = await client.delete(f"/v1/tiers/{silver['id']}", headers=h)
    assert held.status_code == 409 and held.json()["holders"] == 1
    assert (await client.delete(f"/v1/tiers/{unused['id']}", headers=h)).status_code == 204
    assert (await client.delete(f"/v1/tiers/{unused['id']}", headers=h)).status_code == 404
    assert await count_rows(Tier) == 1


async def test_refusals(client, admin, make_staff, make_api_key):
    h = admin["headers"]
    tier = (await create(client, h)).json()
    path = f"/v1/tiers/{tier['id']}"
    reads = [("GET", "/v1/tiers", None), ("GET", path, None)]
    writes = [("POST", "/v1/tiers", {"name": "Gold", "min_lifetime_points": 900}),
              ("PATCH", path, {"name": "Argent"}), ("DELETE", path, None)]
    viewer = (await make_staff("viewer"))["headers"]
    moderator = (await make_staff("moderator"))["headers"]
    read_key = await make_api_key("rewards:read")
    wrong_key = await make_api_key("advocates:write", "advocates:read")
    advocate = await make_advocate(client, h)
    link = await access_headers(client, h, advocate["id"])
    for method, url, body in reads + writes:
        for headers, status in [({}, 401), (wrong_key, 403), (link, 403)]:
            response = await client.request(method, url, json=body, headers=headers)
            assert response.status_code == status, (method, url)
    for method, url, body in reads:
        for headers in (viewer, moderator, read_key):
            assert (await client.request(method, url, json=body, headers=headers)).status_code \
                == 200
    for method, url, body in writes:
        for headers in (viewer, moderator, read_key):
            response = await client.request(method, url, json=body, headers=headers)
            assert response.status_code == 403, (method, url)
    manager = (await make_staff("manager"))["headers"]
    write_key = await make_api_key("rewards:write")
    assert (await create(client, manager, name="Gold", min_lifetime_points=900)).status_code == 201
    assert (await create(client, write_key, name="Jade", min_lifetime_points=950)).status_code \
        == 201
    assert (await client.get(path, headers=h)).json()["name"] == "Silver"
