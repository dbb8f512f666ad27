"""GET /v1/me is served by a small ASGI branch in front of FastAPI's routing
(services.api.me.status). It must answer exactly what the FastAPI route answers, for every kind
of caller: compared here with the same app without the branch."""

import copy

import httpx
import pytest
from sqlalchemy import update

from services.api.auth.security import digest
from services.api.me.status import StatusReadMiddleware
from shared.db import session_scope
from shared.models import AdvocateAccessLink
from shared.models.base import utcnow
from tests.api.advocacy import access_headers, make_advocate


@pytest.fixture
async def through_fastapi():
    """The api without the branch: GET /v1/me goes through FastAPI's route and dependencies."""
    from services.api.main import app

    reference = copy.copy(app)
    reference.user_middleware = [m for m in app.user_middleware
                                 if m.cls is not StatusReadMiddleware]
    assert len(reference.user_middleware) == len(app.user_middleware) - 1
    reference.middleware_stack = None
    transport = httpx.ASGITransport(app=reference, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
        yield http


def _seen(r: httpx.Response) -> tuple:
    return (r.status_code, r.headers.get("content-type"), r.headers.get("www-authenticate"),
            r.json(), "x-request-id" in r.headers)


async def test_the_branch_answers_what_the_route_answers(client, through_fastapi, admin,
                                                         make_api_key):
    h = admin["headers"]
    advocate = await make_advocate(client, h, points=70)
    other = await make_advocate(client, h, "Bo", points=5)
    mine, theirs = (await access_headers(client, h, advocate["id"]),
                    await access_headers(client, h, other["id"]))
    revoked = await access_headers(client, h, advocate["id"])
    expired = await access_headers(client, h, advocate["id"])
    key = await make_api_key("advocates:read")
    third = await make_advocate(client, h, "Cy")
    removed = await access_headers(client, h, third["id"])
    await client.post(f"/v1/advocates/{third['id']}/remove", headers=h)
    revoked_token = revoked["Authorization"].removeprefix("Bearer ")
    async with session_scope() as session:
        await session.exec(update(AdvocateAccessLink)
                           .where(AdvocateAccessLink.token_hash == digest(revoked_token))
                           .values(revoked_at=utcnow()))
        await session.exec(update(AdvocateAccessLink)
                           .where(AdvocateAccessLink.token_hash
                                  == digest(expired["Authorization"].removeprefix("Bearer ")))
                           .values(expires_at=utcnow()))
    callers = {
        "own link": (mine, 200), "another advocate's link": (theirs, 200),
        "revoked link": (revoked, 401), "expired link": (expired, 401),
        "removed advocate": (removed, 401), "staff token": (h, 403), "API key": (key, 403),
        "no token": ({}, 401), "unknown link": ({"Authorization": "Bearer hat_nope"}, 401),
        "unknown token": ({"Authorization": "Bearer nope"}, 401),
        "another scheme": ({"Authorization": f"Basic {revoked_token}"}, 401),
        "empty bearer": ({"Authorization": "Bearer "}, 401),
    }
    for name, (headers, status) in callers.items():
        response = await client.get("/v1/me", headers=headers)
        reference = await through_fastapi.get("/v1/me", headers=headers)
        assert response.status_code == status, (name, response.text)
        assert _seen(response) == _seen(reference), name
    assert (await client.get("/v1/me", headers=mine)).json()["id"] == advocate["id"]
    assert (await client.get("/v1/me", headers=theirs)).json()["balance"] == 5
    # The link still opens nothing but GET /v1/me; other methods take FastAPI's way (405).
    for method in ("POST", "PUT", "DELETE"):
        response = await client.request(method, "/v1/me", headers=mine)
        reference = await through_fastapi.request(method, "/v1/me", headers=mine)
        assert response.status_code == reference.status_code == 405, method


async def test_the_branch_is_logged_and_counted_as_the_route(client, admin):
    advocate = await make_advocate(client, admin["headers"])
    me = await access_headers(client, admin["headers"], advocate["id"])
    response = await client.get("/v1/me", headers={**me, "X-Request-ID": "status-read-1"})
    assert response.headers["x-request-id"] == "status-read-1"
    metrics = (await client.get("/metrics")).text
    assert 'hearth_http_requests_total{method="GET",route="/v1/me",status="200"}' in metrics
