"""Ids beyond PostgreSQL's `integer` name no row. They are refused as a 422 at the edge, on every
database, instead of reaching the driver (which cannot send them: a 500 on PostgreSQL)."""

import pytest

from shared.schemas.types import MAX_ROW_ID

TOO_BIG = MAX_ROW_ID + 1


@pytest.mark.parametrize("method, path, body", [
    ("GET", f"/v1/members/{TOO_BIG}", None),
    ("GET", f"/v1/communities/{TOO_BIG}", None),
    ("POST", f"/v1/advocates/{TOO_BIG}/adjustments", {"points": 5, "reason": "thanks"}),
    ("GET", f"/v1/activities?member_id={TOO_BIG}", None),
    ("GET", f"/v1/events?community_id={TOO_BIG}", None),
    ("GET", f"/v1/reports/engagement?community_id={TOO_BIG}&start=2026-10-01&end=2026-10-31",
     None),
    ("POST", "/v1/activities", {"member_id": TOO_BIG, "community_id": 1, "kind": "post_created",
                                "occurred_at": "2026-10-01T10:00:00+00:00", "source": "forum",
                                "external_id": "big"}),
    ("POST", "/v1/advocates", {"member_id": TOO_BIG}),
])
async def test_an_id_beyond_the_database_range_is_a_validation_error(client, admin, method, path,
                                                                     body):
    response = await client.request(method, path, json=body, headers=admin["headers"])
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["type"] == "validation-error"
    assert any(error["type"] == "less_than_equal" for error in problem["errors"])


async def test_the_largest_id_is_looked_up_like_any_other(client, admin):
    response = await client.get(f"/v1/members/{MAX_ROW_ID}", headers=admin["headers"])
    assert response.status_code == 404


async def test_the_openapi_document_states_the_bound(client):
    schema = (await client.get("/openapi.json")).json()
    member_id = next(parameter for parameter in schema["paths"]["/v1/members/{member_id}"]["get"]
                     ["parameters"] if parameter["name"] == "member_id")
    assert member_id["schema"]["maximum"] == MAX_ROW_ID
