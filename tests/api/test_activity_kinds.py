import pytest

from shared.models.seeds import ACTIVITY_KINDS

WORKSHOP = {"key": "workshop_run", "name": "Ran a workshop", "is_content": False}


async def keys(client, headers) -> list[str]:
    response = await client.get("/v1/activity-kinds", params={"limit": 500}, headers=headers)
    assert response.status_code == 200, response.text
    return [kind["key"] for kind in response.json()["items"]]


async def test_the_seeded_kinds_are_listed(client, admin):
    assert await keys(client, admin["headers"]) == [key for key, _, _ in ACTIVITY_KINDS]


async def test_an_admin_or_manager_adds_a_kind(client, make_staff):
    manager = await make_staff("manager")
    response = await client.post("/v1/activity-kinds", json=WORKSHOP, headers=manager["headers"])
    assert response.status_code == 201, response.text
    assert response.json()["key"] == "workshop_run" and response.json()["description"] is None
    assert (await keys(client, manager["headers"]))[-1] == "workshop_run"

    again = await client.post("/v1/activity-kinds", json={**WORKSHOP, "name": "Other"},
                              headers=manager["headers"])
    assert again.status_code == 409 and again.json()["field"] == "key"


@pytest.mark.parametrize("key", ["Workshop", "9lives", "x", "with-dash", "a" * 51, "émoji"])
async def test_keys_are_lower_case_identifiers(client, admin, key):
    response = await client.post("/v1/activity-kinds", json={**WORKSHOP, "key": key},
                                 headers=admin["headers"])
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "key"]
    assert len(await keys(client, admin["headers"])) == len(ACTIVITY_KINDS)


async def test_unknown_fields_are_refused(client, admin):
    response = await client.post("/v1/activity-kinds", json={**WORKSHOP, "points": 5},
                                 headers=admin["headers"])
    assert response.status_code == 422


async def test_refusals(client, make_staff, make_api_key):
    assert (await client.get("/v1/activity-kinds")).status_code == 401
    for role in ("viewer", "moderator"):
        staff = await make_staff(role)
        assert (await client.get("/v1/activity-kinds", headers=staff["headers"])).status_code == 200
        created = await client.post("/v1/activity-kinds", json=WORKSHOP, headers=staff["headers"])
        assert created.status_code == 403
    # An integration that records activities may read the kinds but not add one.
    integration = await make_api_key("activities:read", "activities:write")
    assert (await client.get("/v1/activity-kinds", headers=integration)).status_code == 200
    created = await client.post("/v1/activity-kinds", json=WORKSHOP, headers=integration)
    assert created.status_code == 403
    assert (await client.get("/v1/activity-kinds",
                             headers=await make_api_key("members:read"))).status_code == 403
