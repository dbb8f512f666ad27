import pytest

NEW = {"email": "Linus@Example.org", "name": "Linus", "role": "moderator",
       "password": "long-enough-password"}


async def test_admin_creates_lists_updates_and_deactivates(client, admin):
    created = await client.post("/v1/staff", json=NEW, headers=admin["headers"])
    assert created.status_code == 201, created.text
    staff = created.json()
    assert staff["email"] == "linus@example.org" and "password" not in str(staff)
    assert "password_hash" not in staff

    duplicate = await client.post("/v1/staff", json={**NEW, "email": "LINUS@example.org"},
                                  headers=admin["headers"])
    assert duplicate.status_code == 409

    listing = await client.get("/v1/staff", params={"role": "moderator"}, headers=admin["headers"])
    assert [s["id"] for s in listing.json()["items"]] == [staff["id"]]

    promoted = await client.patch(f"/v1/staff/{staff['id']}", json={"role": "manager"},
                                  headers=admin["headers"])
    assert promoted.json()["role"] == "manager"

    gone = await client.post(f"/v1/staff/{staff['id']}/deactivate", headers=admin["headers"])
    assert gone.json()["is_active"] is False
    inactive = await client.get("/v1/staff", params={"active": "false"}, headers=admin["headers"])
    assert [s["id"] for s in inactive.json()["items"]] == [staff["id"]]


@pytest.mark.parametrize("body", [
    {**NEW, "role": "superuser"}, {**NEW, "password": "short"}, {**NEW, "email": "nope"},
    {**NEW, "is_active": False},
])
async def test_bad_staff_bodies(client, admin, body):
    response = await client.post("/v1/staff", json=body, headers=admin["headers"])
    assert response.status_code == 422
    listing = await client.get("/v1/staff", headers=admin["headers"])
    assert len(listing.json()["items"]) == 1  # only the admin


async def test_last_admin_cannot_be_demoted_or_deactivated(client, admin):
    for response in [
        await client.patch(f"/v1/staff/{admin['id']}", json={"role": "viewer"},
                           headers=admin["headers"]),
        await client.post(f"/v1/staff/{admin['id']}/deactivate", headers=admin["headers"]),
    ]:
        assert response.status_code == 409 and response.json()["type"] == "last-admin"


@pytest.mark.parametrize("role", ["manager", "moderator", "viewer"])
async def test_only_admins_manage_staff(client, make_staff, admin, role):
    staff = await make_staff(role)
    refused = [
        await client.get("/v1/staff", headers=staff["headers"]),
        await client.post("/v1/staff", json=NEW, headers=staff["headers"]),
        await client.get(f"/v1/staff/{admin['id']}", headers=staff["headers"]),
        await client.patch(f"/v1/staff/{admin['id']}", json={"name": "x"},
                           headers=staff["headers"]),
        await client.post(f"/v1/staff/{admin['id']}/deactivate", headers=staff["headers"]),
    ]
    assert [r.status_code for r in refused] == [403] * 5


async def test_api_keys_never_manage_staff(client, make_api_key):
    key = await make_api_key("communities:read", "members:read", "members:write")
    assert (await client.get("/v1/staff", headers=key)).status_code == 403


async def test_missing_staff_is_404(client, admin):
    assert (await client.get("/v1/staff/4242", headers=admin["headers"])).status_code == 404
