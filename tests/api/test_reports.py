"""GET /v1/reports/...: the hand-counted worlds of tests/metrics through the API, the period
and parameter checks, and who may read reports."""

import pytest

from tests.api.advocacy import access_headers, make_advocate
from tests.metrics import world

OCTOBER = {"start": "2026-10-01", "end": "2026-10-31"}
PATHS = ["/v1/reports/engagement", "/v1/reports/impact-relevance", "/v1/reports/growth",
         "/v1/reports/influence"]


async def _get(client, headers, path, **params):
    return await client.get(path, params=params, headers=headers)


async def test_engagement_of_a_community_and_the_program(client, admin):
    ids = await world.october()
    response = await _get(client, admin["headers"], "/v1/reports/engagement",
                          community_id=ids["a"], **OCTOBER)
    assert response.status_code == 200, response.text
    body = response.json()
    assert {k: body[k] for k in ("community_id", "start", "end", "members", "new_members",
                                 "active_members", "active_posters", "events", "attendance",
                                 "feedback_count", "mean_rating",
                                 "median_first_response_hours")} == {
        "community_id": ids["a"], "start": "2026-10-01", "end": "2026-10-31", "members": 3,
        "new_members": 2, "active_members": 3, "active_posters": 2, "events": 2,
        "attendance": 3, "feedback_count": 3, "mean_rating": 4.5,
        "median_first_response_hours": 6.0}
    assert body["top_members"] == [
        {"member_id": ids["ada"], "name": "Ada", "points": 100, "activities": 3},
        {"member_id": ids["bob"], "name": "Bob", "points": 30, "activities": 2}]
    program = (await _get(client, admin["headers"], "/v1/reports/engagement", **OCTOBER)).json()
    assert program["community_id"] is None and program["activities"] == 7


async def test_an_activity_sent_with_an_offset_counts_on_its_utc_date(client, admin):
    community = await world.community()
    member = await world.member()
    for external_id, occurred_at in (("tokyo", "2026-11-01T08:30:00+09:00"),
                                     ("midnight", "2026-11-01T00:00:00+00:00")):
        created = await client.post("/v1/activities", headers=admin["headers"], json={
            "member_id": member, "community_id": community, "kind": "post_created",
            "occurred_at": occurred_at, "source": "forum", "external_id": external_id})
        assert created.status_code == 201, created.text
    counts = {}
    for day in ("2026-10-31", "2026-11-01"):
        response = await _get(client, admin["headers"], "/v1/reports/engagement",
                              community_id=community, start=day, end=day)
        counts[day] = response.json()["activities"]
    assert counts == {"2026-10-31": 1, "2026-11-01": 1}


async def test_other_reports_answer_with_their_figures(client, admin):
    ids = await world.october()
    impact = await _get(client, admin["headers"], "/v1/reports/impact-relevance", **OCTOBER,
                        weight_talks=0, focus_kinds=["talk_given", "post_created"])
    assert impact.status_code == 200, impact.text
    body = impact.json()
    assert body["weights"] == {"conversion": 1.0, "attendance": 1.0, "content": 1.0,
                               "talks": 0.0, "referrals": 1.0}
    assert body["focus_kinds"] == ["post_created", "talk_given"]
    a = body["items"][0]
    # A: ada's 2 posts and talk, dee's post of 6 activities; B: ada's 1 post of 1.
    assert (a["community_id"], a["relevance"], a["inputs"]["focus_activities"]) == (
        ids["a"], 66.7, 4)
    assert body["items"][1]["relevance"] == 100.0
    health = await _get(client, admin["headers"], "/v1/reports/health", community_id=ids["a"],
                        as_of="2026-10-31")
    assert health.status_code == 200, health.text
    assert health.json()["components"]["activity_trend"]["value"] == 2.0
    growth = await _get(client, admin["headers"], "/v1/reports/growth", community_id=ids["a"],
                        interval="week", start="2026-10-26", end="2026-11-02")
    # Ada's talk and Bob's session on Oct 31, Cy's post at Nov 1 00:00: all in that ISO week.
    assert [(b["start"], b["activities"]) for b in growth.json()["buckets"]] == [
        ("2026-10-26", 3), ("2026-11-02", 0)]
    influence = await _get(client, admin["headers"], "/v1/reports/influence", **OCTOBER,
                           community_id=ids["a"], half_life_days=1000, limit=1)
    assert influence.status_code == 200, influence.text
    assert [m["name"] for m in influence.json()["members"]] == ["Ada"]
    assert influence.json()["total_members"] == 3


@pytest.mark.parametrize("params", [
    {"start": "2026-10-31", "end": "2026-10-01"},
    {"start": "2020-01-01", "end": "2026-10-01"},
    {"start": "2026-10-01"},
    {"start": "2026-10-01", "end": "not-a-date"},
])
@pytest.mark.parametrize("path", PATHS)
async def test_bad_periods_are_422(client, admin, path, params):
    response = await _get(client, admin["headers"], path, **params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["loc"][0] == "query"


@pytest.mark.parametrize(("path", "params"), [
    ("/v1/reports/impact-relevance", {"weight_conversion": 0, "weight_attendance": 0,
                                      "weight_content": 0, "weight_talks": 0,
                                      "weight_referrals": 0}),
    ("/v1/reports/impact-relevance", {"weight_talks": -1}),
    ("/v1/reports/impact-relevance", {"focus_kinds": ["talk_given", "juggling"]}),
    ("/v1/reports/influence", {"half_life_days": 0}),
    ("/v1/reports/influence", {"limit": 501}),
    ("/v1/reports/growth", {"interval": "day"}),
])
async def test_bad_parameters_are_422(client, admin, path, params):
    response = await _get(client, admin["headers"], path, **OCTOBER, **params)
    assert response.status_code == 422, response.text
    assert response.json()["type"] == "validation-error"


async def test_unknown_focus_kind_is_named(client, admin):
    response = await _get(client, admin["headers"], "/v1/reports/impact-relevance", **OCTOBER,
                          focus_kinds=["juggling"])
    assert "juggling" in response.json()["detail"]


@pytest.mark.parametrize("path", [*PATHS[:1], *PATHS[2:], "/v1/reports/health"])
async def test_unknown_community_is_404(client, admin, path):
    response = await _get(client, admin["headers"], path, community_id=999, **OCTOBER)
    assert response.status_code == 404, response.text
    assert response.json()["type"] == "not-found"


async def test_health_needs_a_community(client, admin):
    response = await _get(client, admin["headers"], "/v1/reports/health")
    assert response.status_code == 422


@pytest.mark.parametrize("path", [*PATHS, "/v1/reports/health"])
async def test_who_may_read_reports(client, admin, make_staff, make_api_key, path):
    community = await world.community()
    params = {**OCTOBER, "community_id": community}
    anonymous = await _get(client, {}, path, **params)
    assert anonymous.status_code == 401
    advocate = await make_advocate(client, admin["headers"])
    as_advocate = await _get(client, await access_headers(client, admin["headers"],
                                                          advocate["id"]), path, **params)
    assert as_advocate.status_code == 403
    wrong_scope = await _get(client, await make_api_key("members:read"), path, **params)
    assert wrong_scope.status_code == 403
    assert "reports:read" in wrong_scope.json()["detail"]
    for allowed in (await make_api_key("reports:read"), (await make_staff("viewer"))["headers"]):
        assert (await _get(client, allowed, path, **params)).status_code == 200
