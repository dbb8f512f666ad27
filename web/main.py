"""The Hearth web: server-rendered pages for staff, `uvicorn web.main:app`. It keeps no data of
its own: every page asks the API, as the signed-in user."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlencode

import httpx
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from shared.logging import configure_logging
from web import session
from web.client import ApiError, ApiUnavailable
from web.rendering import VaryOnHtmx, error_page, redirect
from web.routes import (
    activities,
    advocate_portal,
    advocates,
    auth,
    communities,
    events,
    feedback,
    imports,
    incentives,
    members,
    moderation,
    redemptions,
    reports,
    rewards,
    tiers,
)
from web.settings import WebSettings, get_web_settings

log = logging.getLogger("hearth.web")


def _to_login(request: Request, next_path: str, notice: str | None = None):
    if notice:
        session.flash(request, notice)
    return redirect(request, "/login?" + urlencode({"next": next_path}))


def install_error_pages(app: FastAPI) -> None:
    """Every failure becomes a page a person can read; never a stack trace."""

    @app.exception_handler(session.SignInRequired)
    async def _sign_in(request: Request, exc: session.SignInRequired):
        return _to_login(request, exc.next_path)

    @app.exception_handler(session.CsrfRefused)
    async def _csrf(request: Request, _: session.CsrfRefused):
        return error_page(request, 403, "This form has expired",
                          "The form was not sent from this site or is too old. "
                          "Go back, reload the page and try again.")

    @app.exception_handler(session.PermissionDenied)
    async def _denied(request: Request, exc: session.PermissionDenied):
        return error_page(request, 403, "You do not have permission", exc.detail)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        if exc.status == 401:
            # The token expired or was revoked: the session is worthless, start a new one.
            session.sign_out(request)
            return _to_login(request, session.return_path(request),
                             "Your session has ended. Please sign in again.")
        if exc.status == 403:
            return error_page(request, 403, "You do not have permission", exc.detail)
        if exc.status == 404:
            return error_page(request, 404, "Not found", exc.detail)
        return error_page(request, exc.status, "The request was refused", exc.detail)

    @app.exception_handler(ApiUnavailable)
    async def _unavailable(request: Request, exc: ApiUnavailable):
        log.warning("api unavailable: %s", exc)
        return error_page(request, 503, "Hearth is unavailable right now",
                          "The service behind this page did not answer. Try again in a minute.")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 404:
            return error_page(request, 404, "Not found", "There is no page at this address.")
        return error_page(request, exc.status_code, "The request was refused", str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _bad_address(request: Request, _: RequestValidationError):
        # Only path parameters are typed here (forms go to the API as typed), so /members/abc
        # is simply an address where there is no page.
        return error_page(request, 404, "Not found", "There is no page at this address.")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_page(request, 500, "Something went wrong",
                          "An unexpected error occurred; it has been logged.")


def create_app(
    settings: WebSettings | None = None, *, transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """`transport` replaces the network to the API (tests pass the API app over ASGI)."""
    settings = settings or get_web_settings()
    http = httpx.AsyncClient(base_url=settings.api_url, transport=transport,
                             timeout=settings.api_timeout_seconds)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        configure_logging(json_logs=settings.json_logs, level=settings.log_level)
        yield
        await http.aclose()

    app = FastAPI(title="Hearth web", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None, dependencies=[Depends(session.verify_csrf)])
    app.state.http = http
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="hearth_session",
        max_age=settings.staff_token_ttl_hours * 3600,
        same_site="lax",
        https_only=settings.session_https_only,
    )
    # Around the session and the routes, so redirects and error pages carry it too.
    app.add_middleware(VaryOnHtmx)
    install_error_pages(app)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    for router in (auth.router, communities.router, members.router, imports.router):
        app.include_router(router)
    app.include_router(events.router)
    for router in (advocate_portal.router, advocates.router, redemptions.router,
                   incentives.router, tiers.router, rewards.router, activities.router):
        app.include_router(router)
    for router in (feedback.router, moderation.router):
        app.include_router(router)

    app.include_router(reports.router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


app = create_app()
