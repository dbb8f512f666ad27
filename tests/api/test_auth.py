from datetime import timedelta

from sqlmodel import select

from shared.db import session_scope
from shared.models import AuthToken
from shared.models.base import utcnow


async def login(client, email, password):
    return await client.post("/v1/auth/login", json={"email": email, "password": password})


async def test_login_is_case_insensitive_and_token_works(client, make_staff):
    staff = await make_staff("manager", email="grace@example.org")
    response = await login(client, "Grace@Example.org", staff["password"])
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_at"]
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    me = await client.get("/v1/auth/me", headers=headers)
    assert me.json()["role"] == "manager" and "communities:write" in me.json()["permissions"]


async def test_wrong_password_unknown_email_and_inactive_get_one_answer(client, make_staff, admin):
    staff = await make_staff("viewer")
    await client.post(f"/v1/staff/{staff['id']}/deactivate", headers=admin["headers"])
    answers = [
        await login(client, admin["email"], "not-the-password"),
        await login(client, "nobody@example.org", "whatever-password"),
        await login(client, staff["email"], staff["password"]),
    ]
    assert {r.status_code for r in answers} == {401}
    assert {r.json()["detail"] for r in answers} == {"Wrong email or password."}


async def test_login_rejects_bad_bodies(client):
    for body in [{}, {"email": "x", "password": "x"},
                 {"email": "a@example.org", "password": ""},
                 {"email": "a@example.org", "password": "x", "remember": True}]:
        response = await client.post("/v1/auth/login", json=body)
        assert response.status_code == 422, body
        assert response.headers["content-type"] == "application/problem+json"


async def test_logout_revokes_the_token(client, make_staff):
    staff = await make_staff("viewer")
    token = (await login(client, staff["email"], staff["password"])).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.post("/v1/auth/logout", headers=headers)).status_code == 204
    assert (await client.get("/v1/auth/me", headers=headers)).status_code == 401
    # the other token of the same user still works
    assert (await client.get("/v1/auth/me", headers=staff["headers"])).status_code == 200


async def test_expired_token_is_refused(client, make_staff):
    staff = await make_staff("viewer")
    async with session_scope() as session:
        for token in (await session.exec(select(AuthToken))).all():
            token.expires_at = utcnow() - timedelta(seconds=1)
            session.add(token)
    response = await client.get("/v1/auth/me", headers=staff["headers"])
    assert response.status_code == 401 and "expired" in response.json()["detail"]


async def test_deactivated_staff_is_locked_out_at_once(client, make_staff, admin):
    staff = await make_staff("manager")
    await client.post(f"/v1/staff/{staff['id']}/deactivate", headers=admin["headers"])
    assert (await client.get("/v1/communities", headers=staff["headers"])).status_code == 401


async def test_api_key_cannot_log_out(client, make_api_key):
    key = await make_api_key("communities:read")
    response = await client.post("/v1/auth/logout", headers=key)
    assert response.status_code == 400
    assert (await client.get("/v1/auth/me", headers=key)).json()["kind"] == "api_key"
