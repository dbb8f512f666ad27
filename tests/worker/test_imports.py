"""The member import job, run by the real arq worker against the real Redis and database."""

import asyncio
from datetime import timedelta

import pytest
from arq.connections import create_pool
from redis.asyncio import Redis

from services.worker import imports
from services.worker.sweep import STALE_AFTER, sweep_jobs
from shared import jobs
from shared.db import session_scope
from shared.models import Job
from shared.models.base import utcnow
from tests.api.test_jobs import upload
from tests.api.test_members import create, create_community

# arq closes its pool with a call redis-py deprecated; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")

HEADER = "name,email,handle,country,timezone,interests,community,role,joined_at\n"
GOOD_AND_BAD = HEADER + (
    "Ada Lovelace,ada@example.org,countess,gb,Europe/London,math; engines,pydata-berlin,"
    "organiser,2025-03-01T18:00:00+01:00\n"                       # line 2
    "Chi Obi,Chi@Example.org,,NG,,,pydata-berlin,,\n"             # line 3
    "\n"                                                          # line 4: blank, skipped
    ",nameless@example.org,,,,,,,\n"                              # line 5
    "Bad Email,not-an-email,,,,,,,\n"                             # line 6
    "Bad Country,bc@example.org,,XX,,,,,\n"                       # line 7
    "Bad Zone,bz@example.org,,,Mars/Olympus,,,,\n"                # line 8
    "Lost,lost@example.org,,,,,no-such-club,,\n"                  # line 9
    "Ada Again,ADA@example.org,,,,,,,\n"                          # line 10
    "Naive,naive@example.org,,,,,pydata-berlin,,2025-03-01T18:00:00\n"  # line 11
    "Role Only,ro@example.org,,,,,,mentor,\n"                     # line 12
    "Too Many,tm@example.org,,,,,,,,surplus\n"                    # line 13
    '"Multi\nLine",ml@example.org,,,,,,,\n'                       # lines 14-15
    "Bad Role,br@example.org,,,,,pydata-berlin,king,\n"           # line 16
)
EXPECTED_ERRORS = {
    5: "name is required",
    6: "email",
    7: "country",
    8: "Mars/Olympus",
    9: "no-such-club",
    10: "line 2",
    11: "joined_at",
    12: "give the community",
    13: "more than the header",
    16: "role",
}


async def import_file(client, headers, content: str) -> int:
    response = await upload(client, headers, content)
    assert response.status_code == 202, response.text
    return response.json()["job_id"]


async def get_job(client, headers, job_id: int) -> dict:
    response = await client.get(f"/v1/jobs/{job_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def members_by_email(client, headers) -> dict[str, dict]:
    response = await client.get("/v1/members", params={"limit": 500}, headers=headers)
    return {member["email"].lower(): member for member in response.json()["items"]}


async def memberships(client, headers, member_id: int) -> list[dict]:
    response = await client.get(f"/v1/members/{member_id}/memberships", headers=headers)
    return response.json()["items"]


async def flush_redis(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    await redis.flushall()
    await redis.aclose()


async def test_good_rows_are_imported_and_bad_rows_reported(client, admin, run_worker):
    headers = admin["headers"]
    await create_community(client, headers)
    job_id = await import_file(client, headers, GOOD_AND_BAD)
    await run_worker()

    job = await get_job(client, headers, job_id)
    assert job["status"] == "succeeded", job
    assert job["total"] == job["progress"] == 13 and job["attempts"] == 1
    assert job["result"] == {"created": 3, "updated": 0, "unchanged": 0, "failed": 10}
    assert [error["line"] for error in job["errors"]] == list(EXPECTED_ERRORS)
    for error in job["errors"]:
        assert EXPECTED_ERRORS[error["line"]] in error["reason"], error
    assert job["started_at"] and job["finished_at"]

    members = await members_by_email(client, headers)
    assert sorted(members) == ["ada@example.org", "chi@example.org", "ml@example.org"]
    ada = members["ada@example.org"]
    assert (ada["name"], ada["handle"], ada["country"], ada["timezone"], ada["interests"]) == (
        "Ada Lovelace", "countess", "GB", "Europe/London", ["math", "engines"])
    [ada_membership] = await memberships(client, headers, ada["id"])
    assert ada_membership["role"] == "organiser"
    assert ada_membership["joined_at"].startswith("2025-03-01T17:00:00")
    chi = members["chi@example.org"]
    assert chi["email"] == "Chi@example.org" and chi["handle"] is None
    assert [m["role"] for m in await memberships(client, headers, chi["id"])] == ["member"]
    assert members["ml@example.org"]["name"] == "Multi\nLine"


async def test_importing_the_same_file_again_changes_nothing(client, admin, run_worker):
    headers = admin["headers"]
    await create_community(client, headers)
    await import_file(client, headers, GOOD_AND_BAD)
    await run_worker()
    before = await members_by_email(client, headers)
    ada_memberships = await memberships(client, headers, before["ada@example.org"]["id"])

    again = await import_file(client, headers, GOOD_AND_BAD)
    await run_worker()
    job = await get_job(client, headers, again)
    assert job["status"] == "succeeded"
    assert job["result"] == {"created": 0, "updated": 0, "unchanged": 3, "failed": 10}
    assert await members_by_email(client, headers) == before
    assert await memberships(client, headers, before["ada@example.org"]["id"]) == ada_memberships


async def test_an_import_updates_what_changed_and_keeps_blank_cells(client, admin, run_worker):
    headers = admin["headers"]
    berlin = await create_community(client, headers)
    grace = await create(client, headers, name="Grace", email="grace@example.org", handle=None,
                         country="US", timezone="America/New_York", identities=[])
    linus = await create(client, headers, name="Linus", email="linus@example.org", handle="lt",
                         country="FI", timezone=None, interests=[], identities=[])
    same = await create(client, headers, name="Same", email="same@example.org", handle=None,
                        country=None, timezone=None, interests=[], identities=[])
    await client.post(f"/v1/members/{linus['id']}/memberships",
                      json={"community_id": berlin["id"]}, headers=headers)

    job_id = await import_file(client, headers, HEADER + (
        "Grace Hopper,GRACE@example.org,amazing-grace,,,navy;cobol,,,\n"   # fields change
        "Linus,linus@example.org,,,,,pydata-berlin,mentor,\n"                # the role changes
        "Same,same@example.org,,,,,pydata-berlin,,\n"                       # joins a community
        "Same,same@EXAMPLE.org,,,,,,,\n"                                    # a duplicate
    ))
    await run_worker()

    job = await get_job(client, headers, job_id)
    assert job["result"] == {"created": 0, "updated": 3, "unchanged": 0, "failed": 1}
    assert job["errors"] == [{"line": 5, "reason": "email same@example.org is already on line 4 "
                                                   "of this file"}]
    members = await members_by_email(client, headers)
    updated = members["grace@example.org"]
    assert updated["id"] == grace["id"] and updated["name"] == "Grace Hopper"
    assert updated["email"] == "GRACE@example.org" and updated["handle"] == "amazing-grace"
    assert updated["interests"] == ["navy", "cobol"]
    # blank cells leave what the member has
    assert updated["country"] == "US" and updated["timezone"] == "America/New_York"
    assert members["linus@example.org"]["handle"] == "lt"
    [linus_membership] = await memberships(client, headers, linus["id"])
    assert linus_membership["role"] == "mentor"
    assert [m["community_id"] for m in await memberships(client, headers, same["id"])] == [
        berlin["id"]]


async def test_job_status_survives_a_redis_flush(client, admin, run_worker, redis_url):
    headers = admin["headers"]
    job_id = await import_file(client, headers, "name,email\nAda,ada@example.org\n")
    await run_worker()
    done = await get_job(client, headers, job_id)
    assert done["status"] == "succeeded"
    await flush_redis(redis_url)
    assert await get_job(client, headers, job_id) == done


async def test_the_sweep_queues_a_job_that_redis_lost(client, admin, run_worker, redis_url):
    headers = admin["headers"]
    job_id = await import_file(client, headers, "name,email\nAda,ada@example.org\n")
    await flush_redis(redis_url)

    pool = await create_pool(jobs.redis_settings())
    try:
        assert await sweep_jobs({"redis": pool}) == 1
        # already queued again: a second sweep, or a second worker's sweep, adds nothing
        assert await sweep_jobs({"redis": pool}) == 0
    finally:
        await pool.aclose()
    await flush_redis(redis_url)

    # the worker's own sweep, run at its start, finds the job too
    await run_worker()
    job = await get_job(client, headers, job_id)
    assert job["status"] == "succeeded" and job["result"]["created"] == 1
    assert list(await members_by_email(client, headers)) == ["ada@example.org"]


async def set_job(job_id: int, **values) -> None:
    async with session_scope() as session:
        job = await session.get(Job, job_id)
        job.sqlmodel_update(values)
        session.add(job)


async def test_a_run_cut_off_is_taken_up_again_by_the_sweep(client, admin, run_worker,
                                                           redis_url):
    headers = admin["headers"]
    job_id = await import_file(client, headers, "name,email\nAda,ada@example.org\n")
    await flush_redis(redis_url)

    # a worker that was killed mid-run leaves the job running; while the run may still be alive
    # the sweep leaves it be
    await set_job(job_id, status="running", started_at=utcnow(), attempts=1)
    await run_worker()
    assert (await get_job(client, headers, job_id))["status"] == "running"

    await set_job(job_id, started_at=utcnow() - STALE_AFTER - timedelta(seconds=1))
    await run_worker()
    job = await get_job(client, headers, job_id)
    assert job["status"] == "succeeded" and job["attempts"] == 2
    assert job["result"]["created"] == 1


def numbered_members(count: int) -> str:
    return "name,email\n" + "".join(f"Member {i},m{i}@example.org\n" for i in range(count))


async def test_a_crashed_run_resumes_after_its_last_batch(client, admin, run_worker,
                                                         monkeypatch, redis_url):
    headers = admin["headers"]
    monkeypatch.setattr(imports, "BATCH_SIZE", 2)
    real_apply = imports._apply
    calls = []

    async def crash_on_the_second_batch(session, batch):
        calls.append(batch[0].line)
        if len(calls) == 2:
            raise RuntimeError("the worker fell over")
        return await real_apply(session, batch)

    monkeypatch.setattr(imports, "_apply", crash_on_the_second_batch)
    job_id = await import_file(client, headers, numbered_members(5))
    await flush_redis(redis_url)
    await imports.import_members({}, job_id)

    job = await get_job(client, headers, job_id)
    assert job["status"] == "queued" and job["progress"] == 2 and job["attempts"] == 1
    assert job["result"]["created"] == 2
    assert len(await members_by_email(client, headers)) == 2

    await run_worker()  # the sweep queues it again; the run starts at the third row
    job = await get_job(client, headers, job_id)
    assert job["status"] == "succeeded" and job["progress"] == 5 and job["attempts"] == 2
    assert job["result"] == {"created": 5, "updated": 0, "unchanged": 0, "failed": 0}
    assert calls == [2, 4, 4, 6]
    assert len(await members_by_email(client, headers)) == 5


async def test_a_job_that_keeps_crashing_is_given_up(client, admin, run_worker, monkeypatch):
    headers = admin["headers"]

    async def always_crash(session, batch):
        raise RuntimeError("a bug")

    monkeypatch.setattr(imports, "_apply", always_crash)
    job_id = await import_file(client, headers, numbered_members(1))
    await set_job(job_id, attempts=imports.MAX_ATTEMPTS - 1)
    await run_worker()
    job = await get_job(client, headers, job_id)
    assert job["status"] == "failed" and job["attempts"] == imports.MAX_ATTEMPTS
    assert job["errors"] == [{"line": None, "reason": imports.GIVE_UP_REASON}]
    assert job["finished_at"] is not None


async def test_a_finished_job_run_again_is_a_no_op(client, admin, run_worker):
    headers = admin["headers"]
    job_id = await import_file(client, headers, numbered_members(3))
    await run_worker()
    done = await get_job(client, headers, job_id)
    members = await members_by_email(client, headers)

    await imports.import_members({}, job_id)
    assert await jobs.enqueue_job_row("member_import", job_id)  # arq forgot it; queue it anew
    await run_worker()
    assert await get_job(client, headers, job_id) == done
    assert await members_by_email(client, headers) == members


async def test_two_runs_of_one_job_import_each_row_once(client, admin, monkeypatch):
    headers = admin["headers"]
    monkeypatch.setattr(imports, "BATCH_SIZE", 2)
    job_id = await import_file(client, headers, numbered_members(7))
    await asyncio.gather(imports.import_members({}, job_id), imports.import_members({}, job_id))
    job = await get_job(client, headers, job_id)
    assert job["status"] == "succeeded" and job["progress"] == 7
    assert job["result"] == {"created": 7, "updated": 0, "unchanged": 0, "failed": 0}
    assert len(await members_by_email(client, headers)) == 7
