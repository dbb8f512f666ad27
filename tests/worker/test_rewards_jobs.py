"""Previews and rescores of incentives: requested through the API, run by the real arq worker."""

from datetime import timedelta

from sqlalchemy import func, select

from services.worker.rewards import process_pending_activities
from shared.db import session_scope
from shared.models import LedgerEntry, Member
from tests.api.test_activities import activity, make_advocate, make_member, post_activities
from tests.worker.test_rewards import NOON, balance, make_incentive, outcomes

PERIOD = {"start": (NOON - timedelta(days=1)).isoformat(),
          "end": (NOON + timedelta(days=1)).isoformat()}


async def run_job(client, headers: dict, run_worker, path: str, body: dict) -> dict:
    response = await client.post(path, json=body, headers=headers)
    assert response.status_code == 202, response.text
    await run_worker()
    job = await client.get(f"/v1/jobs/{response.json()['id']}", headers=headers)
    assert job.json()["status"] == "succeeded", job.text
    return job.json()


async def ledger_size() -> int:
    async with session_scope() as session:
        return (await session.exec(select(func.count()).select_from(LedgerEntry))).scalar_one()


async def past_talks(client, headers: dict) -> tuple[dict, dict, list[int]]:
    """Ada gave three talks on one day, Bob one, Cy (no advocate) one, all processed before any
    incentive existed."""
    ada, bob = await make_advocate("Ada"), await make_advocate("Bob")
    ids = await post_activities(
        client, headers, *(activity(ada["member_id"], at=NOON + timedelta(hours=i))
                           for i in range(3)),
        activity(bob["member_id"], at=NOON), activity(await make_member("Cy"), at=NOON),
        activity(ada["member_id"], at=NOON + timedelta(days=3)))  # outside the period
    await process_pending_activities()
    return ada, bob, ids


async def test_a_preview_reports_exactly_and_writes_nothing(client, admin, run_worker):
    headers = admin["headers"]
    ada, bob, _ = await past_talks(client, headers)
    draft = await make_incentive(client, headers, status="draft")  # 100 points, 2 a day
    job = await run_job(client, headers, run_worker, f"/v1/incentives/{draft['id']}/preview",
                        PERIOD)
    result = job["result"]
    assert (result["awards"], result["points"], result["incentive_version"]) == (3, 300, 1)
    assert result["advocates"] == [
        {"advocate_id": ada["id"], "member_id": ada["member_id"], "name": "Ada", "awards": 2,
         "points": 200},
        {"advocate_id": bob["id"], "member_id": bob["member_id"], "name": "Bob", "awards": 1,
         "points": 100},
    ]
    assert await ledger_size() == 0 and await balance(ada["id"]) == 0


async def test_a_rescore_pays_the_past_once(client, admin, run_worker):
    headers = admin["headers"]
    ada, bob, ids = await past_talks(client, headers)
    talks = await make_incentive(client, headers)
    rescore = f"/v1/incentives/{talks['id']}/rescore"
    dry = await run_job(client, headers, run_worker, rescore, PERIOD)
    assert dry["kind"] == "incentive_preview" and dry["result"]["points"] == 300
    assert await ledger_size() == 0

    job = await run_job(client, headers, run_worker, rescore, {**PERIOD, "dry_run": False})
    assert (job["progress"], job["total"]) == (5, 5)
    assert (job["result"]["awards"], job["result"]["points"]) == (3, 300)
    assert (await balance(ada["id"]), await balance(bob["id"])) == (200, 100)
    assert await outcomes(ids) == ["awarded", "awarded", "no_matching_incentive", "awarded",
                                   "not_an_advocate", "no_matching_incentive"]

    again = await run_job(client, headers, run_worker, rescore, {**PERIOD, "dry_run": False})
    assert (again["result"]["awards"], await ledger_size()) == (0, 3)
    preview = await run_job(client, headers, run_worker, f"/v1/incentives/{talks['id']}/preview",
                            PERIOD)
    assert preview["result"]["awards"] == 0


async def test_a_rescore_leaves_refused_activities_unpaid(client, admin, run_worker):
    headers = admin["headers"]
    sue = await make_advocate("Sue", member_status="suspended")
    ids = await post_activities(client, headers, activity(sue["member_id"], at=NOON))
    await process_pending_activities()
    assert await outcomes(ids) == ["member_suspended"]
    # Reinstated later: the activity she did while suspended still earns nothing.
    async with session_scope() as session:
        member = await session.get(Member, sue["member_id"])
        member.status = "active"
    talks = await make_incentive(client, headers)
    job = await run_job(client, headers, run_worker, f"/v1/incentives/{talks['id']}/rescore",
                        {**PERIOD, "dry_run": False})
    assert job["result"]["awards"] == 0 and await balance(sue["id"]) == 0


async def test_a_referral_preview_counts_refusals(client, admin, run_worker):
    headers = admin["headers"]
    rea = await make_advocate("Rea", email="rea@example.org")
    friend = await make_member("Fay", referred_by_code=rea["referral_code"])
    alias = await make_member("Rea Too", email="rea+alt@example.org",
                              referred_by_code=rea["referral_code"])
    await post_activities(client, headers, activity(friend, kind="event_attended", at=NOON),
                          activity(alias, kind="event_attended", at=NOON))
    await process_pending_activities()
    draft = await make_incentive(client, headers, "referral", status="draft")
    job = await run_job(client, headers, run_worker, f"/v1/incentives/{draft['id']}/preview",
                        PERIOD)
    assert job["result"]["awards"] == 1 and job["result"]["points"] == 50
    assert job["result"]["refused"] == {"shared_email": 1}
    assert [a["advocate_id"] for a in job["result"]["advocates"]] == [rea["id"]]
    assert await ledger_size() == 0
