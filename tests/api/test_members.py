import pytest

from shared.db import session_scope
from shared.models import Member

CHI = {"name": "Chi Obi", "email": "Chi@Example.org", "handle": "chiobi", "country": "ng",
       "timezone": "Africa/Lagos", "interests": ["python", "ml"],
       "identities": [{"provider": "github", "external_id": "chiobi"}]}
BERLIN = {"name": "PyData Berlin", "slug": "pydata-berlin", "kind": "offline",
          "timezone": "Europe/Berlin"}


async def create(client, headers, **overrides):
    response = await client.post("/v1/members", json={**CHI, **overrides}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def create_community(client, headers, **overrides):
    response = await client.post("/v1/communities", json={**BERLIN, **overrides}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def join(client, headers, member_id, community_id, **body):
    response = await client.post(f"/v1/members/{member_id}/memberships",
                                 json={"community_id": community_id, **body}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def all_members(client, headers) -> list[dict]:
    response = await client.get("/v1/members", params={"limit": 500}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["detail"]
    return body


async def test_create_read_update(client, admin):
    headers = admin["headers"]
    created = await create(client, headers)
    assert created["email"] == "Chi@example.org"  # the domain is normalised, the local part kept
    assert created["country"] == "NG" and created["status"] == "active"
    assert created["identities"] == [{"provider": "github", "external_id": "chiobi"}]
    assert created["erased_at"] is None and created["is_test"] is False

    fetched = await client.get(f"/v1/members/{created['id']}", headers=headers)
    assert fetched.json() == created

    patched = await client.patch(f"/v1/members/{created['id']}",
                                 json={"handle": "chi", "country": None}, headers=headers)
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["handle"] == "chi" and body["country"] is None
    assert body["name"] == "Chi Obi" and body["identities"] == created["identities"]


async def test_identities_are_replaced_by_a_patch(client, admin):
    member = await create(client, admin["headers"])
    new = [{"provider": "slack", "external_id": "U123"}, {"provider": "forum", "external_id": "7"}]
    patched = await client.patch(f"/v1/members/{member['id']}", json={"identities": new},
                                 headers=admin["headers"])
    assert patched.json()["identities"] == new
    cleared = await client.patch(f"/v1/members/{member['id']}", json={"identities": []},
                                 headers=admin["headers"])
    assert cleared.json()["identities"] == []
    # the identity given up is free for another member
    await create(client, admin["headers"], email="other@example.org")


async def test_an_empty_patch_changes_nothing(client, admin):
    member = await create(client, admin["headers"])
    response = await client.patch(f"/v1/members/{member['id']}", json={},
                                  headers=admin["headers"])
    assert response.status_code == 200 and response.json() == member


async def test_email_is_unique_case_insensitively(client, admin):
    headers = admin["headers"]
    first = await create(client, headers, identities=[])
    clash = await client.post("/v1/members", json={**CHI, "email": "CHI@example.ORG",
                                                   "identities": []}, headers=headers)
    assert assert_problem(clash, 409)["field"] == "email"

    other = await create(client, headers, email="ada@example.org", identities=[])
    taken = await client.patch(f"/v1/members/{other['id']}", json={"email": "chi@EXAMPLE.org"},
                               headers=headers)
    assert_problem(taken, 409)
    # a member may change the case of their own address
    own = await client.patch(f"/v1/members/{first['id']}", json={"email": "chi@example.org"},
                             headers=headers)
    assert own.status_code == 200 and own.json()["email"] == "chi@example.org"
    assert len(await all_members(client, headers)) == 2


async def test_identity_belongs_to_one_member(client, admin):
    headers = admin["headers"]
    first = await create(client, headers)
    clash = await client.post("/v1/members", json={**CHI, "email": "x@example.org"},
                              headers=headers)
    assert "github:chiobi" in assert_problem(clash, 409)["detail"]
    other = await create(client, headers, email="y@example.org", identities=[])
    stolen = await client.patch(f"/v1/members/{other['id']}",
                                json={"identities": CHI["identities"]}, headers=headers)
    assert_problem(stolen, 409)
    assert len(await all_members(client, headers)) == 2
    kept = await client.get(f"/v1/members/{first['id']}", headers=headers)
    assert kept.json()["identities"] == CHI["identities"]


@pytest.mark.parametrize(("field", "value"), [
    ("name", ""), ("name", "x" * 201), ("email", "not-an-email"), ("email", None),
    ("country", "XX"), ("timezone", "Mars/Olympus"), ("handle", "h" * 101),
    ("interests", ["x" * 51]), ("interests", ["tag"] * 51), ("is_test", "perhaps"),
    ("identities", [{"provider": "Git Hub", "external_id": "x"}]),
    ("identities", [{"provider": "github", "external_id": ""}]),
    ("identities", [{"provider": "github", "external_id": "a"}] * 2),
    ("identities", [{"provider": "github", "external_id": "a", "extra": 1}]),
    ("referred_by_code", "c" * 33), ("unknown_field", 1),
])
async def test_bad_input_is_422_and_changes_nothing(client, admin, field, value):
    response = await client.post("/v1/members", json={**CHI, field: value},
                                 headers=admin["headers"])
    body = assert_problem(response, 422)
    assert field in body["errors"][0]["loc"]
    assert await all_members(client, admin["headers"]) == []


@pytest.mark.parametrize(("field", "value"), [
    ("name", None), ("email", None), ("interests", None), ("identities", None),
    ("is_test", None), ("email", "nope"), ("country", "XX"), ("status", "banned"),
    ("erased_at", None), ("unknown_field", 1),
])
async def test_bad_patch_is_422_and_changes_nothing(client, admin, field, value):
    member = await create(client, admin["headers"])
    response = await client.patch(f"/v1/members/{member['id']}", json={field: value},
                                  headers=admin["headers"])
    assert field in assert_problem(response, 422)["errors"][0]["loc"]
    after = await client.get(f"/v1/members/{member['id']}", headers=admin["headers"])
    assert after.json() == member


async def test_missing_member_is_404(client, admin):
    headers = admin["headers"]
    for response in [await client.get("/v1/members/999", headers=headers),
                     await client.patch("/v1/members/999", json={"handle": "x"}, headers=headers),
                     await client.post("/v1/members/999/erase", headers=headers),
                     await client.get("/v1/members/999/memberships", headers=headers),
                     await client.post("/v1/members/999/memberships", json={"community_id": 1},
                                       headers=headers)]:
        assert assert_problem(response, 404)["type"] == "not-found"


async def test_erasure_removes_personal_data_and_keeps_history(client, admin):
    headers = admin["headers"]
    community = await create_community(client, headers)
    member = await create(client, headers, referred_by_code="ADA-7K2Q")
    membership = await join(client, headers, member["id"], community["id"], role="organiser")

    response = await client.post(f"/v1/members/{member['id']}/erase", headers=headers)
    assert response.status_code == 200, response.text
    erased = response.json()
    assert erased["id"] == member["id"]
    assert erased["name"] == f"Erased member #{member['id']}"
    for field in ("email", "handle", "country", "timezone", "referred_by_code"):
        assert erased[field] is None, field
    assert erased["interests"] == [] and erased["identities"] == []
    assert erased["erased_at"] is not None
    async with session_scope() as session:
        assert (await session.get(Member, member["id"])).email_key is None

    memberships = await client.get(f"/v1/members/{member['id']}/memberships", headers=headers)
    assert memberships.json()["items"] == [membership]
    listed = await client.get("/v1/members", params={"community_id": community["id"]},
                              headers=headers)
    assert [m["id"] for m in listed.json()["items"]] == [member["id"]]

    again = await client.post(f"/v1/members/{member['id']}/erase", headers=headers)
    assert again.status_code == 200 and again.json() == erased

    refused = [
        await client.patch(f"/v1/members/{member['id']}", json={"name": "Back"}, headers=headers),
        await client.post(f"/v1/members/{member['id']}/memberships",
                          json={"community_id": community["id"]}, headers=headers),
        await client.patch(f"/v1/members/{member['id']}/memberships/{membership['id']}",
                           json={"role": "member"}, headers=headers),
        await client.delete(f"/v1/members/{member['id']}/memberships/{membership['id']}",
                            headers=headers),
    ]
    assert [r.status_code for r in refused] == [409, 409, 409, 409]
    assert (await client.get(f"/v1/members/{member['id']}", headers=headers)).json() == erased
    # the address and the identity are free again: the person may sign up anew
    await create(client, headers)


async def test_only_admins_erase(client, make_staff, make_api_key, admin):
    member = await create(client, admin["headers"])
    manager = await make_staff("manager")
    refused = await client.post(f"/v1/members/{member['id']}/erase", headers=manager["headers"])
    assert "members:erase" in assert_problem(refused, 403)["detail"]
    writer = await make_api_key("members:read", "members:write")
    assert (await client.post(f"/v1/members/{member['id']}/erase",
                              headers=writer)).status_code == 403
    grant = await client.post("/v1/api-keys", json={"name": "x", "scopes": ["members:erase"]},
                              headers=admin["headers"])
    assert grant.status_code == 422
    after = await client.get(f"/v1/members/{member['id']}", headers=admin["headers"])
    assert after.json() == member


async def test_list_filters_search_and_pagination(client, admin):
    headers = admin["headers"]
    berlin = await create_community(client, headers)
    lagos = await create_community(client, headers, name="Rust Lagos", slug="rust-lagos")
    chi = await create(client, headers)
    ada = await create(client, headers, name="Ada Lovelace", email="ada@analytical.org",
                       handle="countess", country="GB", timezone="Europe/London", identities=[])
    bot = await create(client, headers, name="Test Bot 100%", email="bot@example.org",
                       handle=None, country=None, is_test=True, identities=[])
    await join(client, headers, chi["id"], berlin["id"])
    await join(client, headers, ada["id"], berlin["id"])
    await join(client, headers, ada["id"], lagos["id"])
    async with session_scope() as session:
        banned = await session.get(Member, bot["id"])
        banned.status = "banned"
        session.add(banned)

    async def names(**params):
        response = await client.get("/v1/members", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [m["name"] for m in response.json()["items"]]

    assert await names(q="LOVE") == ["Ada Lovelace"]
    assert await names(q="ANALYTICAL.ORG") == ["Ada Lovelace"]
    assert await names(q="Countess") == ["Ada Lovelace"]
    assert await names(q="100%") == ["Test Bot 100%"]
    assert await names(q="0%") == ["Test Bot 100%"]
    assert await names(q="_") == []
    assert await names(country="gb") == ["Ada Lovelace"]
    assert await names(community_id=berlin["id"]) == ["Chi Obi", "Ada Lovelace"]
    assert await names(community_id=lagos["id"]) == ["Ada Lovelace"]
    assert await names(community_id=999) == []
    assert await names(is_test=True) == ["Test Bot 100%"]
    assert await names(is_test=False) == ["Chi Obi", "Ada Lovelace"]
    assert await names(status="banned") == ["Test Bot 100%"]
    assert await names(status="active", community_id=berlin["id"], q="chi") == ["Chi Obi"]

    for i in range(4):
        await create(client, headers, name=f"Member {i}", email=f"m{i}@example.org",
                     identities=[])
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/members", params=params, headers=headers)).json()
        seen += [m["id"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 7 and len(set(seen)) == 7 and seen == sorted(seen)


@pytest.mark.parametrize("params", [
    {"status": "asleep"}, {"country": "XX"}, {"community_id": "one"}, {"is_test": "maybe"},
    {"q": "x" * 101}, {"limit": 0}, {"limit": 501}, {"cursor": "garbage!"},
])
async def test_bad_list_parameters_are_422(client, admin, params):
    assert_problem(await client.get("/v1/members", params=params, headers=admin["headers"]), 422)


async def test_memberships(client, admin):
    headers = admin["headers"]
    berlin = await create_community(client, headers)
    lagos = await create_community(client, headers, name="Rust Lagos", slug="rust-lagos")
    member = await create(client, headers)

    joined = await join(client, headers, member["id"], berlin["id"])
    assert joined["role"] == "member" and joined["community_name"] == "PyData Berlin"
    assert joined["member_id"] == member["id"] and joined["joined_at"]
    backfilled = await join(client, headers, member["id"], lagos["id"], role="organiser",
                            joined_at="2025-03-01T18:00:00+01:00")
    assert backfilled["joined_at"].startswith("2025-03-01T17:00:00")

    listed = await client.get(f"/v1/members/{member['id']}/memberships", headers=headers)
    assert listed.json() == {"items": [joined, backfilled], "next_cursor": None}
    first_page = await client.get(f"/v1/members/{member['id']}/memberships",
                                  params={"limit": 1}, headers=headers)
    assert first_page.json()["items"] == [joined] and first_page.json()["next_cursor"]

    url = f"/v1/members/{member['id']}/memberships/{joined['id']}"
    patched = await client.patch(url, json={"role": "mentor",
                                            "joined_at": "2024-01-01T00:00:00Z"}, headers=headers)
    assert patched.status_code == 200, patched.text
    assert patched.json()["role"] == "mentor"
    assert patched.json()["joined_at"].startswith("2024-01-01T00:00:00")
    assert patched.json()["community_name"] == "PyData Berlin"

    deleted = await client.delete(url, headers=headers)
    assert deleted.status_code == 204 and deleted.content == b""
    assert_problem(await client.patch(url, json={"role": "member"}, headers=headers), 404)
    assert_problem(await client.delete(url, headers=headers), 404)
    remaining = await client.get(f"/v1/members/{member['id']}/memberships", headers=headers)
    assert remaining.json()["items"] == [backfilled]


async def test_membership_refusals_change_nothing(client, admin):
    headers = admin["headers"]
    berlin = await create_community(client, headers)
    member = await create(client, headers)
    other = await create(client, headers, email="other@example.org", identities=[])
    membership = await join(client, headers, member["id"], berlin["id"])
    base = f"/v1/members/{member['id']}/memberships"

    unknown = await client.post(base, json={"community_id": 999}, headers=headers)
    body = assert_problem(unknown, 422)
    assert body["errors"][0]["loc"] == ["body", "community_id"] and "999" in body["detail"]
    assert_problem(await client.post(base, json={"community_id": berlin["id"]}, headers=headers),
                   409)
    for bad in [{"community_id": berlin["id"], "role": "king"},
                {"community_id": berlin["id"], "joined_at": "2025-03-01T18:00:00"},
                {"community_id": berlin["id"], "extra": True}, {}]:
        assert_problem(await client.post(base, json=bad, headers=headers), 422)
    for bad in [{"role": None}, {"joined_at": None}, {"joined_at": "2025-03-01"},
                {"community_id": 2}]:
        assert_problem(await client.patch(f"{base}/{membership['id']}", json=bad,
                                          headers=headers), 422)
    # a membership is reached only through its own member
    elsewhere = f"/v1/members/{other['id']}/memberships/{membership['id']}"
    assert_problem(await client.patch(elsewhere, json={"role": "mentor"}, headers=headers), 404)
    assert_problem(await client.delete(elsewhere, headers=headers), 404)

    listed = await client.get(base, headers=headers)
    assert listed.json()["items"] == [membership]


@pytest.mark.parametrize("role", ["viewer", "moderator"])
async def test_read_only_roles_cannot_write(client, make_staff, admin, role):
    staff = await make_staff(role)
    community = await create_community(client, admin["headers"])
    member = await create(client, admin["headers"])
    membership = await join(client, admin["headers"], member["id"], community["id"])
    headers = staff["headers"]
    assert (await client.get("/v1/members", headers=headers)).status_code == 200
    assert (await client.get(f"/v1/members/{member['id']}", headers=headers)).status_code == 200
    assert (await client.get(f"/v1/members/{member['id']}/memberships",
                             headers=headers)).status_code == 200
    refused = [
        await client.post("/v1/members", json={**CHI, "email": "new@example.org"},
                          headers=headers),
        await client.patch(f"/v1/members/{member['id']}", json={"handle": "x"}, headers=headers),
        await client.post(f"/v1/members/{member['id']}/erase", headers=headers),
        await client.post(f"/v1/members/{member['id']}/memberships",
                          json={"community_id": community["id"]}, headers=headers),
        await client.patch(f"/v1/members/{member['id']}/memberships/{membership['id']}",
                           json={"role": "mentor"}, headers=headers),
        await client.delete(f"/v1/members/{member['id']}/memberships/{membership['id']}",
                            headers=headers),
    ]
    assert [r.status_code for r in refused] == [403] * 6
    assert len(await all_members(client, admin["headers"])) == 1
    after = await client.get(f"/v1/members/{member['id']}", headers=admin["headers"])
    assert after.json() == member


async def test_manager_writes_members(client, make_staff, admin):
    manager = await make_staff("manager")
    community = await create_community(client, admin["headers"])
    member = await create(client, manager["headers"])
    await join(client, manager["headers"], member["id"], community["id"])
    patched = await client.patch(f"/v1/members/{member['id']}", json={"handle": "x"},
                                 headers=manager["headers"])
    assert patched.status_code == 200


async def test_anonymous_is_refused(client):
    for response in [await client.get("/v1/members"),
                     await client.post("/v1/members", json=CHI),
                     await client.get("/v1/members/1"),
                     await client.patch("/v1/members/1", json={"handle": "x"}),
                     await client.post("/v1/members/1/erase"),
                     await client.get("/v1/members/1/memberships",
                                      headers={"Authorization": "Bearer nonsense"})]:
        assert_problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"


async def test_api_key_scopes(client, make_api_key):
    reader = await make_api_key("members:read")
    assert (await client.get("/v1/members", headers=reader)).status_code == 200
    refused = await client.post("/v1/members", json=CHI, headers=reader)
    assert "members:write" in assert_problem(refused, 403)["detail"]
    writer = await make_api_key("members:write")
    assert (await client.post("/v1/members", json=CHI, headers=writer)).status_code == 201
    assert (await client.get("/v1/members", headers=writer)).status_code == 403
    other = await make_api_key("communities:read", "communities:write")
    assert (await client.get("/v1/members", headers=other)).status_code == 403
