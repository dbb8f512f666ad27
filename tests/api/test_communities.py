import pytest

BERLIN = {"name": "PyData Berlin", "slug": "pydata-berlin", "kind": "offline", "city": "Berlin",
          "country": "de", "timezone": "Europe/Berlin", "tags": ["python", "data"],
          "code_of_conduct_url": "https://pydata.org/coc"}


async def create(client, headers, **overrides):
    response = await client.post("/v1/communities", json={**BERLIN, **overrides}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def count(client, headers) -> int:
    return len((await client.get("/v1/communities", headers=headers)).json()["items"])


async def test_create_read_update_archive(client, admin):
    created = await create(client, admin["headers"])
    assert created["country"] == "DE" and created["status"] == "active"
    fetched = await client.get(f"/v1/communities/{created['id']}", headers=admin["headers"])
    assert fetched.json() == created

    updated = await client.patch(f"/v1/communities/{created['id']}", json={"city": "Potsdam"},
                                 headers=admin["headers"])
    assert updated.status_code == 200
    assert updated.json()["city"] == "Potsdam" and updated.json()["name"] == "PyData Berlin"

    archived = await client.post(f"/v1/communities/{created['id']}/archive",
                                 headers=admin["headers"])
    assert archived.json()["status"] == "archived"


@pytest.mark.parametrize(("field", "value"), [
    ("country", "XX"), ("timezone", "Mars/Olympus"), ("kind", "virtual"), ("slug", "Not A Slug"),
    ("name", ""), ("name", "x" * 201), ("code_of_conduct_url", "javascript:alert(1)"),
    ("unknown_field", 1),
])
async def test_bad_input_is_422_and_changes_nothing(client, admin, field, value):
    response = await client.post("/v1/communities", json={**BERLIN, field: value},
                                 headers=admin["headers"])
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 422 and body["errors"][0]["loc"][-1] == field
    assert await count(client, admin["headers"]) == 0


async def test_slug_is_unique(client, admin):
    first = await create(client, admin["headers"])
    response = await client.post("/v1/communities", json={**BERLIN, "name": "Other"},
                                 headers=admin["headers"])
    assert response.status_code == 409 and "slug" in response.json()["detail"]
    other = await create(client, admin["headers"], slug="pydata-munich")
    clash = await client.patch(f"/v1/communities/{other['id']}", json={"slug": first["slug"]},
                               headers=admin["headers"])
    assert clash.status_code == 409


async def test_list_filters_search_and_pagination(client, admin):
    headers = admin["headers"]
    await create(client, headers)
    await create(client, headers, name="Rust Lagos", slug="rust-lagos", city="Lagos",
                 country="NG", timezone="Africa/Lagos", kind="hybrid")
    for i in range(5):
        await create(client, headers, name=f"Online {i}", slug=f"online-{i}", kind="online",
                     city=None, country=None)

    async def ids(**params):
        response = await client.get("/v1/communities", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [c["slug"] for c in response.json()["items"]]

    assert await ids(q="LAGOS") == ["rust-lagos"]
    assert await ids(q="pydata") == ["pydata-berlin"]
    assert await ids(kind="hybrid") == ["rust-lagos"]
    assert await ids(country="de") == ["pydata-berlin"]
    assert len(await ids(kind="online")) == 5

    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/communities", params=params, headers=headers)).json()
        seen += [c["slug"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 7 and len(set(seen)) == 7

    bad = await client.get("/v1/communities", params={"cursor": "garbage!"}, headers=headers)
    assert bad.status_code == 422
    too_many = await client.get("/v1/communities", params={"limit": 501}, headers=headers)
    assert too_many.status_code == 422


async def test_missing_community_is_404_problem(client, admin):
    response = await client.get("/v1/communities/999", headers=admin["headers"])
    assert response.status_code == 404
    assert response.json()["type"] == "not-found"


@pytest.mark.parametrize("role", ["viewer", "moderator"])
async def test_read_only_roles_cannot_write(client, make_staff, admin, role):
    staff = await make_staff(role)
    existing = await create(client, admin["headers"])
    assert (await client.get("/v1/communities", headers=staff["headers"])).status_code == 200
    refused = [
        await client.post("/v1/communities", json={**BERLIN, "slug": "new-one"},
                          headers=staff["headers"]),
        await client.patch(f"/v1/communities/{existing['id']}", json={"city": "X"},
                           headers=staff["headers"]),
        await client.post(f"/v1/communities/{existing['id']}/archive", headers=staff["headers"]),
    ]
    assert [r.status_code for r in refused] == [403, 403, 403]
    after = await client.get(f"/v1/communities/{existing['id']}", headers=admin["headers"])
    assert after.json() == existing


async def test_manager_can_write(client, make_staff):
    manager = await make_staff("manager")
    await create(client, manager["headers"])


async def test_anonymous_is_refused(client):
    for response in [await client.get("/v1/communities"),
                     await client.post("/v1/communities", json=BERLIN),
                     await client.get("/v1/communities/1",
                                      headers={"Authorization": "Bearer nonsense"})]:
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"


async def test_api_key_scopes(client, make_api_key):
    reader = await make_api_key("communities:read")
    assert (await client.get("/v1/communities", headers=reader)).status_code == 200
    refused = await client.post("/v1/communities", json=BERLIN, headers=reader)
    assert refused.status_code == 403 and "communities:write" in refused.json()["detail"]
    writer = await make_api_key("communities:write")
    assert (await client.post("/v1/communities", json=BERLIN, headers=writer)).status_code == 201
    # a key without the read scope cannot read what it wrote
    assert (await client.get("/v1/communities", headers=writer)).status_code == 403
