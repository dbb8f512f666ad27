"""The Idempotency-Key header, on the activity endpoints that use it."""

import asyncio

from sqlalchemy import func, select

from shared.db import session_scope
from shared.models import IdempotencyRecord
from tests.api.test_activities import activity, make_member, stored


def keyed(headers: dict, key: str) -> dict:
    return {**headers, "Idempotency-Key": key}


async def records() -> int:
    async with session_scope() as session:
        query = select(func.count()).select_from(IdempotencyRecord)
        return (await session.exec(query)).scalar_one()


async def test_a_retry_gets_the_first_response_and_changes_nothing(client, admin):
    body = activity(await make_member())
    first = await client.post("/v1/activities", json=body, headers=keyed(admin["headers"], "k-1"))
    retry = await client.post("/v1/activities", json=body, headers=keyed(admin["headers"], "k-1"))
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.content == first.content
    assert retry.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await stored() == 1 and await records() == 1
    # Without the key, the same body is a replay of the activity: 200 with the stored one.
    plain = await client.post("/v1/activities", json=body, headers=admin["headers"])
    assert plain.status_code == 200 and plain.json() == first.json()


async def test_bulk_replays_byte_for_byte(client, admin):
    member_id = await make_member()
    body = {"items": [activity(member_id), activity(member_id)]}
    first = await client.post("/v1/activities/bulk", json=body,
                              headers=keyed(admin["headers"], "batch-7"))
    retry = await client.post("/v1/activities/bulk", json=body,
                              headers=keyed(admin["headers"], "batch-7"))
    assert first.json()["accepted"] == 2
    assert retry.status_code == 200 and retry.content == first.content
    assert await stored() == 2


async def test_the_same_key_for_another_request_is_refused(client, admin):
    member_id = await make_member()
    headers = keyed(admin["headers"], "k-2")
    assert (await client.post("/v1/activities", json=activity(member_id),
                              headers=headers)).status_code == 201
    other = await client.post("/v1/activities", json=activity(member_id), headers=headers)
    assert other.status_code == 422
    assert other.json()["type"] == "idempotency-key-reused"
    elsewhere = await client.post("/v1/activities/bulk", json={"items": [activity(member_id)]},
                                  headers=headers)
    assert elsewhere.status_code == 422
    assert await stored() == 1


async def test_keys_belong_to_their_caller(client, admin, make_api_key):
    member_id = await make_member()
    one, two = await make_api_key("activities:write"), await make_api_key("activities:write")
    for headers in (one, two, admin["headers"]):
        response = await client.post("/v1/activities", json=activity(member_id),
                                     headers=keyed(headers, "shared-key"))
        assert response.status_code == 201
    assert await stored() == 3 and await records() == 3


async def test_a_refused_request_leaves_the_key_free(client, admin):
    headers = keyed(admin["headers"], "k-3")
    bad = await client.post("/v1/activities", json=activity(999_999), headers=headers)
    assert bad.status_code == 422 and await records() == 0
    fixed = await client.post("/v1/activities", json=activity(await make_member()),
                              headers=headers)
    assert fixed.status_code == 201 and await records() == 1


async def test_a_forbidden_caller_claims_nothing(client, make_staff):
    viewer = await make_staff("viewer")
    response = await client.post("/v1/activities", json=activity(await make_member()),
                                 headers=keyed(viewer["headers"], "k-4"))
    assert response.status_code == 403 and await records() == 0


async def test_concurrent_retries_write_once(client, admin):
    body = activity(await make_member())
    headers = keyed(admin["headers"], "k-5")
    responses = await asyncio.gather(*(client.post("/v1/activities", json=body, headers=headers)
                                       for _ in range(5)))
    assert {response.status_code for response in responses} == {201}
    assert len({response.content for response in responses}) == 1
    assert await stored() == 1 and await records() == 1


async def test_the_header_is_checked_and_documented(client, admin):
    too_long = await client.post("/v1/activities", json=activity(await make_member()),
                                 headers=keyed(admin["headers"], "k" * 201))
    assert too_long.status_code == 422
    assert too_long.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    spec = (await client.get("/openapi.json")).json()
    for path in ("/v1/activities", "/v1/activities/bulk"):
        parameters = spec["paths"][path]["post"]["parameters"]
        assert [p["name"] for p in parameters if p["in"] == "header"] == ["Idempotency-Key"]
