import pytest

from shared.db import session_scope
from shared.models import ApiKey


async def test_key_is_shown_once_and_stored_hashed(client, admin):
    response = await client.post("/v1/api-keys", json={"name": "Forum", "scopes":
                                 ["communities:read", "communities:read"]},
                                 headers=admin["headers"])
    assert response.status_code == 201
    created = response.json()
    assert created["key"].startswith(created["prefix"])
    assert created["scopes"] == ["communities:read"]
    async with session_scope() as session:
        stored = await session.get(ApiKey, created["id"])
        assert stored.key_hash != created["key"] and created["key"] not in stored.key_hash

    listing = await client.get("/v1/api-keys", headers=admin["headers"])
    assert "key" not in listing.json()["items"][0]

    key_headers = {"Authorization": f"Bearer {created['key']}"}
    assert (await client.get("/v1/communities", headers=key_headers)).status_code == 200
    used = (await client.get("/v1/api-keys", headers=admin["headers"])).json()["items"][0]
    assert used["last_used_at"] is not None


async def test_revoked_key_stops_working(client, admin):
    created = (await client.post("/v1/api-keys", json={"name": "Bot", "scopes":
                                 ["communities:read"]}, headers=admin["headers"])).json()
    key_headers = {"Authorization": f"Bearer {created['key']}"}
    revoked = await client.post(f"/v1/api-keys/{created['id']}/revoke", headers=admin["headers"])
    assert revoked.json()["revoked_at"] is not None
    assert (await client.get("/v1/communities", headers=key_headers)).status_code == 401
    active = await client.get("/v1/api-keys", headers=admin["headers"])
    assert active.json()["items"] == []
    everything = await client.get("/v1/api-keys", params={"include_revoked": "true"},
                                  headers=admin["headers"])
    assert len(everything.json()["items"]) == 1


@pytest.mark.parametrize("scopes", [[], ["staff:admin"], ["api_keys:admin"], ["rocket:launch"]])
async def test_keys_cannot_carry_admin_or_unknown_scopes(client, admin, scopes):
    response = await client.post("/v1/api-keys", json={"name": "x", "scopes": scopes},
                                 headers=admin["headers"])
    assert response.status_code == 422
    assert (await client.get("/v1/api-keys", headers=admin["headers"])).json()["items"] == []


@pytest.mark.parametrize("role", ["manager", "moderator", "viewer"])
async def test_only_admins_manage_keys(client, make_staff, role):
    staff = await make_staff(role)
    assert (await client.get("/v1/api-keys", headers=staff["headers"])).status_code == 403
    response = await client.post("/v1/api-keys", json={"name": "x", "scopes":
                                 ["communities:read"]}, headers=staff["headers"])
    assert response.status_code == 403


async def test_a_key_cannot_mint_keys(client, make_api_key):
    key = await make_api_key("communities:read", "communities:write")
    response = await client.post("/v1/api-keys", json={"name": "x", "scopes":
                                 ["communities:read"]}, headers=key)
    assert response.status_code == 403


async def test_revoking_unknown_key_is_404(client, admin):
    response = await client.post("/v1/api-keys/99/revoke", headers=admin["headers"])
    assert response.status_code == 404
