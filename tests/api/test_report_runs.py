"""POST/GET /v1/reports/runs: stored report runs. Building them is the worker's (see
tests/worker/test_reports.py); here, what the API accepts, refuses, records and lists."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from shared.db import session_scope
from shared.models import Job, ReportRun
from shared.models.base import utcnow
from shared.settings import get_settings
from tests.api.advocacy import access_headers, make_advocate
from tests.api.test_activities import make_community
from tests.api.test_members import assert_problem

PERIOD = {"start": "2026-10-01", "end": "2026-10-31"}


async def start_run(client, headers, **body) -> dict:
    response = await client.post("/v1/reports/runs", json=body, headers=headers)
    assert response.status_code == 202, response.text
    run = response.json()
    assert response.headers["location"] == f"/v1/reports/runs/{run['id']}"
    return run


async def stored_rows() -> tuple[int, int]:
    async with session_scope() as session:
        runs = (await session.exec(select(func.count()).select_from(ReportRun))).scalar_one()
        jobs = (await session.exec(select(func.count()).select_from(Job))).scalar_one()
        return runs, jobs


async def scheduled_run(community_id: int, kind: str = "engagement") -> int:
    """A run as the worker's schedule stores it."""
    async with session_scope() as session:
        run = ReportRun(kind=kind, community_id=community_id, trigger="schedule", status="done",
                        result={"community_id": community_id}, period_start=date(2026, 10, 1),
                        period_end=date(2026, 10, 28), finished_at=utcnow())
        session.add(run)
        await session.flush()
        return run.id


async def test_a_run_is_queued_with_its_job(client, admin):
    community = await make_community()
    run = await start_run(client, admin["headers"], kind="engagement", community_id=community,
                          **PERIOD)
    assert run["kind"] == "engagement" and run["community_id"] == community
    assert (run["period_start"], run["period_end"]) == (PERIOD["start"], PERIOD["end"])
    assert run["status"] == "queued" and run["trigger"] == "on_demand"
    assert run["result"] is None and run["finished_at"] is None and run["parameters"] == {}
    assert run["requested_by_id"] == admin["id"]

    job = (await client.get(f"/v1/jobs/{run['job_id']}", headers=admin["headers"])).json()
    assert job["kind"] == "report_build" and job["status"] == "queued"
    assert job["created_by_id"] == admin["id"]
    fetched = await client.get(f"/v1/reports/runs/{run['id']}", headers=admin["headers"])
    assert fetched.status_code == 200 and fetched.json() == run


async def test_defaults_are_recorded_with_the_run(client, admin):
    headers = admin["headers"]
    settings = get_settings()
    today = utcnow().date()
    run = await start_run(client, headers, kind="influence")
    assert run["community_id"] is None
    assert run["period_end"] == str(today)
    weeks = settings.report_every_weeks
    assert run["period_start"] == str(today - timedelta(weeks=weeks) + timedelta(days=1))
    assert run["parameters"] == {"half_life_days": settings.influence_half_life_days}

    short = await start_run(client, headers, kind="growth", **PERIOD)
    long = await start_run(client, headers, kind="growth", start="2026-01-01", end="2026-10-31")
    chosen = await start_run(client, headers, kind="growth", interval="month", **PERIOD)
    assert [r["parameters"] for r in (short, long, chosen)] == [
        {"interval": "week"}, {"interval": "month"}, {"interval": "month"}]

    impact = await start_run(client, headers, kind="impact_relevance", **PERIOD)
    assert impact["parameters"] == {
        "weights": {"conversion": settings.impact_weight_conversion,
                    "attendance": settings.impact_weight_attendance,
                    "content": settings.impact_weight_content,
                    "talks": settings.impact_weight_talks,
                    "referrals": settings.impact_weight_referrals},
        "focus_kinds": settings.focus_kinds, "focus_topics": settings.focus_topics}
    weights = {"conversion": 2, "attendance": 0, "content": 1, "talks": 1, "referrals": 0.5}
    custom = await start_run(client, headers, kind="impact_relevance", weights=weights,
                             focus_kinds=["talk_given"], focus_topics=["ml"], **PERIOD)
    assert custom["parameters"] == {"weights": weights, "focus_kinds": ["talk_given"],
                                    "focus_topics": ["ml"]}

    health = await start_run(client, headers, kind="health", community_id=await make_community(),
                             end="2026-11-30")
    assert health["period_end"] == "2026-11-30"


@pytest.mark.parametrize("body", [
    {"kind": "popularity"},
    {"kind": "engagement", "colour": "blue"},
    {"kind": "engagement", "start": "2026-10-31", "end": "2026-10-01"},
    {"kind": "engagement", "start": "2026-11-01"} | {"end": "2026-10-01"},
    {"kind": "engagement", "start": "2020-01-01", "end": "2026-10-01"},
    {"kind": "engagement", "start": "1 Oct"},
    {"kind": "engagement", "interval": "week"},
    {"kind": "engagement", "community_id": 0},
    {"kind": "engagement", "community_id": 999},
    {"kind": "health"},
    {"kind": "impact_relevance", "community_id": 1},
    {"kind": "impact_relevance", "weights": {"conversion": 0, "attendance": 0, "content": 0,
                                             "talks": 0, "referrals": 0}},
    {"kind": "impact_relevance", "weights": {"conversion": 1}},
    {"kind": "impact_relevance", "focus_kinds": ["Not A Kind"]},
    {"kind": "impact_relevance", "focus_kinds": ["talk_given", "juggling"]},
    {"kind": "influence", "half_life_days": 0},
    {"kind": "growth", "interval": "fortnight"},
])
async def test_bad_bodies_are_422_and_store_nothing(client, admin, body):
    await make_community()  # id 1: the refusals are not about a missing community
    response = await client.post("/v1/reports/runs", json=body, headers=admin["headers"])
    assert_problem(response, 422)
    assert await stored_rows() == (0, 0)


async def test_a_start_after_the_default_end_is_422(client, admin):
    tomorrow = utcnow().date() + timedelta(days=1)
    response = await client.post("/v1/reports/runs", json={"kind": "engagement",
                                                           "start": str(tomorrow)},
                                 headers=admin["headers"])
    assert assert_problem(response, 422)["errors"][0]["loc"] == ["body", "start"]
    assert await stored_rows() == (0, 0)


async def test_history_is_newest_first_with_filters_and_cursor(client, admin):
    headers = admin["headers"]
    here, there = await make_community(), await make_community()
    scheduled = await scheduled_run(here)
    first = await start_run(client, headers, kind="engagement", community_id=here, **PERIOD)
    second = await start_run(client, headers, kind="growth", community_id=here, **PERIOD)
    other = await start_run(client, headers, kind="engagement", community_id=there, **PERIOD)

    async def ids(**params) -> list[int]:
        response = await client.get("/v1/reports/runs", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [run["id"] for run in response.json()["items"]]

    assert await ids() == [other["id"], second["id"], first["id"], scheduled]
    assert await ids(community_id=here) == [second["id"], first["id"], scheduled]
    assert await ids(kind="engagement") == [other["id"], first["id"], scheduled]
    assert await ids(trigger="schedule") == [scheduled]
    assert await ids(trigger="on_demand", kind="growth") == [second["id"]]
    assert await ids(status="done") == [scheduled]

    page = (await client.get("/v1/reports/runs", params={"limit": 3}, headers=headers)).json()
    assert [run["id"] for run in page["items"]] == [other["id"], second["id"], first["id"]]
    rest = (await client.get("/v1/reports/runs", params={"cursor": page["next_cursor"]},
                             headers=headers)).json()
    assert [run["id"] for run in rest["items"]] == [scheduled] and rest["next_cursor"] is None
    stored = (await client.get(f"/v1/reports/runs/{scheduled}", headers=headers)).json()
    assert stored["result"] == {"community_id": here} and stored["job_id"] is None


@pytest.mark.parametrize("params", [{"kind": "popularity"}, {"trigger": "cron"},
                                    {"cursor": "not-a-cursor"}, {"limit": 501},
                                    {"community_id": "two"}])
async def test_bad_list_parameters_are_422(client, admin, params):
    response = await client.get("/v1/reports/runs", params=params, headers=admin["headers"])
    assert_problem(response, 422)


async def test_a_missing_run_is_404(client, admin):
    assert_problem(await client.get("/v1/reports/runs/999", headers=admin["headers"]), 404)


async def test_who_may_read_and_build(client, admin, make_staff, make_api_key):
    body = {"kind": "engagement", **PERIOD}
    assert_problem(await client.post("/v1/reports/runs", json=body), 401)
    assert_problem(await client.get("/v1/reports/runs"), 401)

    viewer = await make_staff("viewer")
    assert_problem(await client.post("/v1/reports/runs", json=body, headers=viewer["headers"]),
                   403)
    assert (await client.get("/v1/reports/runs", headers=viewer["headers"])).status_code == 200

    reader = await make_api_key("reports:read")
    assert_problem(await client.post("/v1/reports/runs", json=body, headers=reader), 403)
    assert (await client.get("/v1/reports/runs", headers=reader)).status_code == 200
    wrong_scope = await make_api_key("members:read")
    assert_problem(await client.get("/v1/reports/runs", headers=wrong_scope), 403)

    advocate = await make_advocate(client, admin["headers"])
    as_advocate = await access_headers(client, admin["headers"], advocate["id"])
    assert_problem(await client.post("/v1/reports/runs", json=body, headers=as_advocate), 403)
    assert_problem(await client.get("/v1/reports/runs", headers=as_advocate), 403)
    assert await stored_rows() == (0, 0)

    manager = await make_staff("manager")
    await start_run(client, manager["headers"], **body)
    await start_run(client, await make_api_key("reports:write"), **body)
    assert await stored_rows() == (2, 2)
