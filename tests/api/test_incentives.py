"""/v1/incentives: the four kinds, versions, status moves, preview and rescore requests. What the
incentives award is tested against the worker in tests/worker/test_rewards.py."""

import pytest
from sqlalchemy import func, select

from services.api.incentives.schemas import EXAMPLES
from shared.db import session_scope
from shared.models import Incentive, IncentiveVersion, Job
from tests.api.test_activities import make_community, make_tier

PERIOD = {"start": "2026-10-01T00:00:00+00:00", "end": "2026-11-01T00:00:00+00:00"}


async def create(client, headers: dict, body: dict) -> dict:
    response = await client.post("/v1/incentives", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def patch(client, headers: dict, incentive_id: int, body: dict):
    return await client.patch(f"/v1/incentives/{incentive_id}", json=body, headers=headers)


async def counts() -> tuple[int, int]:
    async with session_scope() as session:
        incentives = (await session.exec(select(func.count()).select_from(Incentive))).scalar_one()
        versions = (await session.exec(
            select(func.count()).select_from(IncentiveVersion))).scalar_one()
        return incentives, versions


@pytest.mark.parametrize("kind", list(EXAMPLES))
async def test_the_contract_bodies_create_each_kind(client, admin, kind):
    created = await create(client, admin["headers"], EXAMPLES[kind])
    body = EXAMPLES[kind]
    for field, value in body.items():
        assert created[field] == value, field
    assert created["status"] == "active" and created["version"] == 1
    [version] = created["versions"]
    assert version["version"] == 1 and version["effective_to"] is None
    assert version["created_by_id"] == admin["id"]
    fetched = await client.get(f"/v1/incentives/{created['id']}", headers=admin["headers"])
    assert fetched.json() == created


@pytest.mark.parametrize(("kind", "change", "loc"), [
    ("points_rule", {"activity_kind": "juggling"}, ["body", "activity_kind"]),
    ("points_rule", {"points": 0}, ["body", "points_rule", "points"]),
    ("points_rule", {"points": -5}, ["body", "points_rule", "points"]),
    ("points_rule", {"cap": {"max": 0, "per": "day"}}, ["body", "points_rule", "cap", "max"]),
    ("points_rule", {"cap": {"max": 2, "per": "year"}}, ["body", "points_rule", "cap", "per"]),
    ("points_rule", {"starts_at": "2026-12-01T00:00:00Z", "ends_at": "2026-11-01T00:00:00Z"},
     ["body", "points_rule", "ends_at"]),
    ("points_rule", {"starts_at": "2026-12-01T00:00:00"}, ["body", "points_rule", "starts_at"]),
    ("points_rule", {"community_ids": [999]}, ["body", "community_ids"]),
    ("points_rule", {"tier_ids": [999]}, ["body", "tier_ids"]),
    ("points_rule", {"status": "ended"}, ["body", "points_rule", "status"]),
    ("points_rule", {"count": 3}, ["body", "points_rule", "count"]),
    ("points_rule", {"name": "x" * 201}, ["body", "points_rule", "name"]),
    ("milestone", {"count": 0}, ["body", "milestone", "count"]),
    ("milestone", {"cap": {"max": 1, "per": "day"}}, ["body", "milestone", "cap"]),
    ("first_n", {"n": 0}, ["body", "first_n", "n"]),
    ("referral", {"points": None}, ["body", "referral", "points"]),
    ("referral", {"kind": "lottery"}, ["body"]),
])
async def test_bad_bodies_are_422_and_create_nothing(client, admin, kind, change, loc):
    response = await client.post("/v1/incentives", json={**EXAMPLES[kind], **change},
                                 headers=admin["headers"])
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"][:len(loc)] == loc
    assert await counts() == (0, 0)


async def test_milestone_needs_its_count(client, admin):
    body = {key: value for key, value in EXAMPLES["milestone"].items() if key != "count"}
    response = await client.post("/v1/incentives", json=body, headers=admin["headers"])
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "milestone", "count"]


async def test_filters_by_community_and_tier(client, admin):
    community_id, tier_id = await make_community(), await make_tier("Gold", 1000, "1.5")
    created = await create(client, admin["headers"], {
        **EXAMPLES["points_rule"], "community_ids": [community_id], "tier_ids": [tier_id],
        "properties": {"format": "keynote"}})
    assert created["community_ids"] == [community_id] and created["tier_ids"] == [tier_id]
    assert created["properties"] == {"format": "keynote"}


async def test_editing_an_active_incentive_opens_a_new_version(client, admin):
    headers = admin["headers"]
    talks = await create(client, headers, EXAMPLES["points_rule"])
    edited = await patch(client, headers, talks["id"], {"points": 120, "cap": None})
    assert edited.status_code == 200, edited.text
    detail = edited.json()
    assert detail["version"] == 2 and detail["points"] == 120 and detail["cap"] is None
    first, second = detail["versions"]
    assert first["points"] == 100 and first["cap"] == {"max": 2, "per": "day"}
    assert first["effective_to"] == second["effective_from"] and second["effective_to"] is None
    versions = await client.get(f"/v1/incentives/{talks['id']}/versions", headers=headers)
    assert versions.json()["items"] == detail["versions"]

    # The name and the status are no terms: no version for them, nor for an edit that changes
    # nothing.
    for change in ({"name": "Talks and keynotes"}, {"status": "paused"}, {"points": 120}):
        response = await patch(client, headers, talks["id"], change)
        assert response.status_code == 200 and response.json()["version"] == 2
    assert (await patch(client, headers, talks["id"], {"points": 90})).json()["version"] == 3
    assert await counts() == (1, 3)


async def test_a_draft_is_edited_in_place_and_comes_into_force_when_activated(client, admin):
    headers = admin["headers"]
    draft = await create(client, headers, {**EXAMPLES["first_n"], "status": "draft"})
    edited = (await patch(client, headers, draft["id"], {"n": 10, "points": 300})).json()
    assert edited["version"] == 1 and (edited["n"], edited["points"]) == (10, 300)
    activated = (await patch(client, headers, draft["id"], {"status": "active"})).json()
    assert activated["status"] == "active" and activated["version"] == 1
    assert activated["versions"][0]["effective_from"] > draft["versions"][0]["effective_from"]
    assert await counts() == (1, 1)


@pytest.mark.parametrize("change", [{"count": 4}, {"activity_kind": "event_hosted"},
                                    {"kind": "milestone"}, {"points": 0}, {"cap": {"max": 0}}])
async def test_edits_are_checked_like_creations(client, admin, change):
    talks = await create(client, admin["headers"], EXAMPLES["points_rule"])
    response = await patch(client, admin["headers"], talks["id"], change)
    assert response.status_code == 422, response.text
    assert await counts() == (1, 1)


async def test_edits_keep_the_window_consistent(client, admin):
    talks = await create(client, admin["headers"], {**EXAMPLES["points_rule"],
                                                    "starts_at": "2026-11-01T00:00:00Z"})
    response = await patch(client, admin["headers"], talks["id"],
                           {"ends_at": "2026-10-01T00:00:00Z"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "ends_at"]


@pytest.mark.parametrize(("path", "allowed"), [
    (["active", "paused", "active", "ended"], True),
    (["draft", "active", "paused", "ended"], True),
    (["draft", "paused"], False),
    (["draft", "ended"], False),
    (["active", "draft"], False),
    (["active", "ended", "active"], False),
])
async def test_status_moves(client, admin, path, allowed):
    incentive = await create(client, admin["headers"], {**EXAMPLES["referral"], "status": path[0]})
    responses = [await patch(client, admin["headers"], incentive["id"], {"status": status})
                 for status in path[1:]]
    assert [r.status_code for r in responses[:-1]] == [200] * (len(path) - 2)
    last = responses[-1]
    if allowed:
        assert last.status_code == 200 and last.json()["status"] == path[-1]
    else:
        assert last.status_code == 409 and last.json()["current_status"] == path[-2]


async def test_an_ended_incentive_keeps_its_terms(client, admin):
    incentive = await create(client, admin["headers"], EXAMPLES["milestone"])
    await patch(client, admin["headers"], incentive["id"], {"status": "ended"})
    response = await patch(client, admin["headers"], incentive["id"], {"count": 5})
    assert response.status_code == 409
    assert (await patch(client, admin["headers"], incentive["id"],
                        {"name": "Writers (2026)"})).status_code == 200


async def test_list_filters(client, admin):
    headers = admin["headers"]
    made = {kind: await create(client, headers, body) for kind, body in EXAMPLES.items()}
    await patch(client, headers, made["first_n"]["id"], {"status": "paused"})

    async def names(**params) -> list[str]:
        response = await client.get("/v1/incentives", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [item["name"] for item in response.json()["items"]]

    assert await names() == [body["name"] for body in EXAMPLES.values()]
    assert await names(kind="milestone") == ["Prolific writer"]
    assert await names(status="paused") == ["Beta pioneers"]
    assert await names(activity_kind="event_attended") == ["Bring a friend"]
    listed = (await client.get("/v1/incentives", headers=headers)).json()["items"]
    assert "versions" not in listed[0]
    assert (await client.get("/v1/incentives/999", headers=headers)).status_code == 404
    assert (await client.get("/v1/incentives/999/versions", headers=headers)).status_code == 404


async def test_preview_and_rescore_start_jobs(client, admin, make_staff):
    headers = admin["headers"]
    draft = await create(client, headers, {**EXAMPLES["points_rule"], "status": "draft"})
    preview = await client.post(f"/v1/incentives/{draft['id']}/preview", json=PERIOD,
                                headers=headers)
    assert preview.status_code == 202, preview.text
    assert preview.json()["kind"] == "incentive_preview" and preview.json()["status"] == "queued"
    assert preview.headers["location"] == f"/v1/jobs/{preview.json()['id']}"

    rescore = await client.post(f"/v1/incentives/{draft['id']}/rescore",
                                json={**PERIOD, "dry_run": False}, headers=headers)
    assert rescore.status_code == 409  # a draft was never in force
    await patch(client, headers, draft["id"], {"status": "active"})
    dry = await client.post(f"/v1/incentives/{draft['id']}/rescore", json=PERIOD,
                            headers=headers)
    assert dry.status_code == 202 and dry.json()["kind"] == "incentive_preview"
    real = await client.post(f"/v1/incentives/{draft['id']}/rescore",
                             json={**PERIOD, "dry_run": False}, headers=headers)
    assert real.status_code == 202 and real.json()["kind"] == "incentive_rescore"
    async with session_scope() as session:
        job = await session.get(Job, real.json()["id"])
        assert job.params == {"incentive_id": draft["id"], **PERIOD}

    manager = await make_staff("manager")
    assert (await client.post(f"/v1/incentives/{draft['id']}/preview", json=PERIOD,
                              headers=manager["headers"])).status_code == 202
    assert (await client.post(f"/v1/incentives/{draft['id']}/rescore", json=PERIOD,
                              headers=manager["headers"])).status_code == 403


@pytest.mark.parametrize("body", [
    {"start": "2026-11-01T00:00:00Z", "end": "2026-10-01T00:00:00Z"},
    {"start": "2026-10-01T00:00:00", "end": "2026-11-01T00:00:00Z"},
    {**PERIOD, "dry_run": False},
])
async def test_preview_periods_are_checked(client, admin, body):
    incentive = await create(client, admin["headers"], EXAMPLES["milestone"])
    response = await client.post(f"/v1/incentives/{incentive['id']}/preview", json=body,
                                 headers=admin["headers"])
    assert response.status_code == 422
    async with session_scope() as session:
        assert (await session.exec(select(func.count()).select_from(Job))).scalar_one() == 0
    missing = await client.post("/v1/incentives/999/preview", json=PERIOD,
                                headers=admin["headers"])
    assert missing.status_code == 404


async def test_refusals(client, admin, make_staff, make_api_key):
    incentive = await create(client, admin["headers"], EXAMPLES["points_rule"])
    path = f"/v1/incentives/{incentive['id']}"
    assert (await client.get("/v1/incentives")).status_code == 401
    assert (await client.post("/v1/incentives", json=EXAMPLES["milestone"])).status_code == 401
    for role in ("viewer", "moderator"):
        headers = (await make_staff(role))["headers"]
        assert (await client.get(path, headers=headers)).status_code == 200
        assert (await client.post("/v1/incentives", json=EXAMPLES["milestone"],
                                  headers=headers)).status_code == 403
        assert (await client.patch(path, json={"points": 1}, headers=headers)).status_code == 403
        assert (await client.post(f"{path}/preview", json=PERIOD,
                                  headers=headers)).status_code == 403
    reader = await make_api_key("incentives:read")
    assert (await client.get(path, headers=reader)).status_code == 200
    assert (await client.patch(path, json={"points": 1}, headers=reader)).status_code == 403
    # Rescoring is an admin act: no API key may be granted it.
    refused = await client.post("/v1/api-keys",
                                json={"name": "x", "scopes": ["incentives:rescore"]},
                                headers=admin["headers"])
    assert refused.status_code == 422
    writer = await make_api_key("incentives:write")
    assert (await client.post(f"{path}/rescore", json=PERIOD, headers=writer)).status_code == 403
    # An integration's key that records activities reads no incentive.
    integration = await make_api_key("activities:write")
    assert (await client.get("/v1/incentives", headers=integration)).status_code == 403
    assert await counts() == (1, 1)
