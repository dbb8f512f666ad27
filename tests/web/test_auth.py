"""Signing in and out, the session cookie, CSRF, and the pages shown when something fails."""

import httpx
from sqlalchemy import update

from tests.live import WebSession


async def test_signed_out_visitors_are_sent_to_login_and_back(open_web, make_staff):
    visitor = await open_web(None)
    response = await visitor.get("/communities?q=berlin")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fcommunities%3Fq%3Dberlin"
    assert "HX-Request" in response.headers["vary"]  # htmx gets HX-Redirect from the same URL

    # An htmx fragment cannot show a login page inside a table: the browser is told to navigate.
    fragment = await visitor.get("/communities", headers={"HX-Request": "true"})
    assert fragment.headers["HX-Redirect"].startswith("/login?next=")

    staff = await make_staff("manager")
    login_page = await visitor.get("/login?next=/communities?q=berlin")
    assert 'name="next" value="/communities?q=berlin"' in login_page.text
    signed_in = await visitor.post("/login", {"email": staff["email"],
                                              "password": staff["password"],
                                              "next": "/communities?q=berlin"})
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/communities?q=berlin"


async def test_sign_in_sets_a_protected_session_cookie_and_sign_out_revokes_the_token(
    open_web, make_staff, client
):
    staff = await make_staff("viewer")
    visitor = await open_web(None)
    await visitor.get("/login")
    wrong = await visitor.post("/login", {"email": staff["email"], "password": "nope"})
    assert wrong.status_code == 401
    assert "Wrong email or password." in wrong.text
    assert f'value="{staff["email"]}"' in wrong.text and 'value="nope"' not in wrong.text

    response = await visitor.sign_in(staff["email"], staff["password"])
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    page = await visitor.get("/communities")
    assert page.status_code == 200 and "Viewer" in page.text and "Sign out" in page.text
    token = _session_token(visitor)
    assert (await client.get("/v1/auth/me", headers=_bearer(token))).status_code == 200

    signed_out = await visitor.post("/logout")
    assert signed_out.status_code == 303 and signed_out.headers["location"] == "/login"
    assert "You are signed out." in (await visitor.get("/login")).text
    assert (await client.get("/v1/auth/me", headers=_bearer(token))).status_code == 401
    assert (await visitor.get("/communities")).status_code == 303


async def test_login_only_follows_paths_on_this_site(open_web, make_staff):
    staff = await make_staff("viewer")
    for next_url, landing in [("https://evil.example/steal", "/steal"), ("//evil.example", "/"),
                              ("/\\evil.example", "/"), ("", "/")]:
        visitor = await open_web(None)
        await visitor.get("/login")
        response = await visitor.post("/login", {"email": staff["email"],
                                                 "password": staff["password"], "next": next_url})
        assert response.headers["location"] == landing


async def test_a_revoked_token_sends_the_user_to_login(web):
    from shared.db import session_scope
    from shared.models import AuthToken
    from shared.models.base import utcnow

    async with session_scope() as session:
        await session.exec(update(AuthToken).values(revoked_at=utcnow()))
    response = await web.get("/communities/7?tab=x")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fcommunities%2F7%3Ftab%3Dx"
    assert "Your session has ended" in (await web.get("/login")).text


async def test_posts_without_the_csrf_token_are_refused_and_change_nothing(web, client):
    form = {"name": "Forged", "slug": "forged", "kind": "online", "status": "active",
            "timezone": "UTC"}
    for token in (None, "wrong-token"):
        data = form if token is None else {**form, "csrf_token": token}
        refused = await web.http.post("/communities/new", data=data)
        assert refused.status_code == 403
        assert "This form has expired" in refused.text
    refused_logout = await web.http.post("/logout", data={})
    assert refused_logout.status_code == 403
    headers = web.staff["headers"]
    assert (await client.get("/v1/communities", headers=headers)).json()["items"] == []
    assert (await web.get("/communities")).status_code == 200  # still signed in

    # htmx sends the token in a header instead of the form.
    sent = await web.http.post("/communities/new", data=form,
                               headers={"X-CSRF-Token": web.csrf, "HX-Request": "true"})
    assert sent.status_code == 200 and sent.headers["HX-Redirect"].startswith("/communities/")


async def test_the_login_form_itself_needs_the_csrf_token(open_web, make_staff):
    staff = await make_staff("viewer")
    visitor = await open_web(None)
    response = await visitor.http.post("/login", data={"email": staff["email"],
                                                       "password": staff["password"]})
    assert response.status_code == 403


async def test_missing_pages_are_404_pages(web):
    for url in ("/communities/999999", "/communities/not-a-number", "/no-such-page"):
        response = await web.get(url)
        assert response.status_code == 404, url
        assert "Not found" in response.text and "Traceback" not in response.text


class SwitchableTransport(httpx.AsyncBaseTransport):
    """The API over ASGI, until the test pulls the plug."""

    def __init__(self, inner: httpx.AsyncBaseTransport):
        self.inner = inner
        self.down = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)


async def test_an_unreachable_api_shows_a_503_page(make_staff):
    from services.api.main import app as api_app
    from web.main import create_app
    from web.settings import WebSettings

    transport = SwitchableTransport(httpx.ASGITransport(app=api_app))
    app = create_app(WebSettings(api_url="http://api.test"), transport=transport)
    staff = await make_staff("viewer")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://web.test") as http:
        visitor = WebSession(http)
        await visitor.sign_in(staff["email"], staff["password"])
        transport.down = True
        response = await visitor.get("/communities")
        assert response.status_code == 503
        assert "Hearth is unavailable right now" in response.text
        assert "ConnectError" not in response.text
        fragment = await visitor.get("/communities", headers={"HX-Request": "true"})
        assert fragment.status_code == 503 and "<html" not in fragment.text
        assert fragment.headers["HX-Retarget"] == "#content"
        # Signing out still works locally while the API is away.
        assert (await visitor.post("/logout")).headers["location"] == "/login"
    await app.state.http.aclose()


def _session_token(visitor: WebSession) -> str:
    import base64
    import json

    cookie = visitor.http.cookies["hearth_session"]
    payload = cookie.split(".")[0]
    return json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))["token"]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
