"""The import upload and the jobs API. The worker side of imports is in tests/worker/."""

import logging

import pytest
from arq.constants import job_key_prefix
from redis.asyncio import Redis

from shared.db import session_scope
from shared.embedded_redis import free_port
from shared.jobs import IMPORT_MEMBERS, enqueue_job_row, queue_id
from shared.models import Job
from shared.settings import get_settings

CSV = "name,email,country\nAda Lovelace,ada@example.org,GB\nChi Obi,chi@example.org,NG\n"


async def upload(client, headers, content: bytes | str, filename: str = "members.csv"):
    data = content.encode() if isinstance(content, str) else content
    return await client.post("/v1/members/import", files={"file": (filename, data, "text/csv")},
                             headers=headers)


async def job_ids(client, headers, **params) -> list[int]:
    response = await client.get("/v1/jobs", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [job["id"] for job in response.json()["items"]]


async def test_an_upload_becomes_a_queued_job(client, admin, redis_url):
    response = await upload(client, admin["headers"], CSV)
    assert response.status_code == 202, response.text
    accepted = response.json()
    job_id = accepted["job_id"]
    assert accepted == {"job_id": job_id, "status": "queued", "url": f"/v1/jobs/{job_id}"}
    assert response.headers["location"] == accepted["url"]

    job = (await client.get(accepted["url"], headers=admin["headers"])).json()
    assert job["kind"] == "member_import" and job["status"] == "queued"
    assert job["progress"] == 0 and job["total"] == 2 and job["attempts"] == 0
    assert job["result"] == {"created": 0, "updated": 0, "unchanged": 0, "failed": 0}
    assert job["errors"] == [] and job["created_by_id"] == admin["id"]
    assert job["started_at"] is None and job["finished_at"] is None

    # queued in Redis once the request committed, under an id derived from the job
    redis = Redis.from_url(redis_url)
    assert await redis.exists(job_key_prefix + queue_id(IMPORT_MEMBERS, job_id))
    await redis.aclose()
    assert await enqueue_job_row("member_import", job_id) is False
    # nothing is imported by the request itself
    assert (await client.get("/v1/members", headers=admin["headers"])).json()["items"] == []


async def test_a_byte_order_mark_and_loose_header_are_accepted(client, admin):
    response = await upload(client, admin["headers"],
                            "\ufeff Name , EMAIL\r\nAda,ada@example.org\r\n".encode())
    assert response.status_code == 202, response.text


@pytest.mark.parametrize(("content", "status", "says"), [
    ("name,email\nJosé,jose@example.org\n".encode("latin-1"), 422, "UTF-8"),
    ("name,country\nAda,GB\n", 422, "email"),
    ("email\nada@example.org\n", 422, "name"),
    ("name,emial\nAda,ada@example.org\n", 422, "'emial'"),
    ("name,email,email\nAda,a@example.org,b@example.org\n", 422, "more than once"),
    ("", 422, "empty"),
    ("name,email\n", 422, "no rows"),
    ("name,email\n\n\n", 422, "no rows"),
    ('name,email\n"Ada,ada@example.org\n', 422, "Line"),
    (b"name,email\n" + b"x" * (5 * 1024 * 1024), 413, "5 MB"),
])
async def test_a_file_that_cannot_be_imported_is_refused_whole(client, admin, content, status,
                                                               says):
    response = await upload(client, admin["headers"], content)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert says in response.json()["detail"]
    assert await job_ids(client, admin["headers"]) == []


async def test_the_file_field_is_required(client, admin):
    response = await client.post("/v1/members/import", data={"other": "x"},
                                 headers=admin["headers"])
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "file"]
    assert await job_ids(client, admin["headers"]) == []


async def test_who_may_import_and_read_jobs(client, make_staff, make_api_key, admin):
    job_id = (await upload(client, admin["headers"], CSV)).json()["job_id"]
    for role in ("viewer", "moderator"):
        staff = await make_staff(role)
        assert (await upload(client, staff["headers"], CSV)).status_code == 403
        assert (await client.get(f"/v1/jobs/{job_id}", headers=staff["headers"])).status_code == 200
        assert await job_ids(client, staff["headers"]) == [job_id]
    manager = await make_staff("manager")
    assert (await upload(client, manager["headers"], CSV)).status_code == 202

    reader = await make_api_key("members:read")
    refused = await upload(client, reader, CSV)
    assert refused.status_code == 403 and "members:write" in refused.json()["detail"]
    writer = await make_api_key("members:write")
    assert (await upload(client, writer, CSV)).status_code == 202
    assert (await client.get(f"/v1/jobs/{job_id}", headers=writer)).status_code == 403
    job_reader = await make_api_key("jobs:read")
    assert (await client.get(f"/v1/jobs/{job_id}", headers=job_reader)).status_code == 200

    for response in [await upload(client, {}, CSV), await client.get(f"/v1/jobs/{job_id}"),
                     await client.get("/v1/jobs")]:
        assert response.status_code == 401
    assert len(await job_ids(client, admin["headers"])) == 3


async def test_list_filters_and_pagination(client, admin):
    headers = admin["headers"]
    ids = [(await upload(client, headers, CSV)).json()["job_id"] for _ in range(3)]
    async with session_scope() as session:
        done = await session.get(Job, ids[1])
        done.status = "succeeded"
        session.add(done)

    assert await job_ids(client, headers, status="queued") == [ids[0], ids[2]]
    assert await job_ids(client, headers, status="succeeded") == [ids[1]]
    assert await job_ids(client, headers, kind="member_import") == ids
    first = (await client.get("/v1/jobs", params={"limit": 2}, headers=headers)).json()
    assert [j["id"] for j in first["items"]] == ids[:2]
    second = (await client.get("/v1/jobs", params={"limit": 2, "cursor": first["next_cursor"]},
                               headers=headers)).json()
    assert [j["id"] for j in second["items"]] == ids[2:] and second["next_cursor"] is None

    for params in [{"status": "sleeping"}, {"kind": "nap"}, {"limit": 0}, {"cursor": "!"}]:
        response = await client.get("/v1/jobs", params=params, headers=headers)
        assert response.status_code == 422, params


async def test_missing_job_is_404(client, admin):
    response = await client.get("/v1/jobs/999", headers=admin["headers"])
    assert response.status_code == 404 and response.json()["type"] == "not-found"
    assert (await client.get("/v1/jobs/abc", headers=admin["headers"])).status_code == 422


@pytest.fixture
def redis_down(monkeypatch):
    """Points the app at a port where no Redis listens."""
    monkeypatch.setenv("HEARTH_REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


async def test_an_upload_succeeds_while_redis_is_down(client, admin, redis_down, caplog):
    with caplog.at_level(logging.WARNING, logger="hearth.jobs"):
        response = await upload(client, admin["headers"], CSV)
    assert response.status_code == 202, response.text
    job = (await client.get(response.json()["url"], headers=admin["headers"])).json()
    assert job["status"] == "queued"
    assert any("the sweep will retry" in record.getMessage() for record in caplog.records)
