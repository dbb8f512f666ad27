"""The Hearth REST API: `uvicorn services.api.main:app`."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.api.activities.router import router as activities_router
from services.api.activity_kinds.router import router as activity_kinds_router
from services.api.advocates.router import router as advocates_router
from services.api.api_keys.router import router as api_keys_router
from services.api.auth.router import router as auth_router
from services.api.communities.router import router as communities_router
from services.api.errors import install_error_handlers
from services.api.events.router import router as events_router
from services.api.exports.router import router as exports_router
from services.api.feedback.router import router as feedback_router
from services.api.health.router import router as health_router
from services.api.incentives.router import router as incentives_router
from services.api.jobs.router import router as jobs_router
from services.api.leaderboard.router import router as leaderboard_router
from services.api.me.router import router as me_router
from services.api.me.status import StatusReadMiddleware
from services.api.members.router import router as members_router
from services.api.moderation.router import router as moderation_router
from services.api.observability import install_observability
from services.api.openapi import document_permissions
from services.api.redemptions.router import router as redemptions_router
from services.api.report_runs.router import router as report_runs_router
from services.api.reports.router import router as reports_router
from services.api.rewards.router import router as rewards_router
from services.api.staff.router import router as staff_router
from services.api.staff.service import ensure_initial_admin
from services.api.tiers.router import router as tiers_router
from shared.db import get_engine
from shared.logging import configure_logging
from shared.settings import get_settings

ROUTERS = [
    # First: routes are matched in order, and GET /v1/me is the hottest read of all.
    me_router,
    health_router,
    auth_router,
    staff_router,
    api_keys_router,
    communities_router,
    members_router,
    jobs_router,
    advocates_router,
    tiers_router,
    rewards_router,
    redemptions_router,
    leaderboard_router,
    activity_kinds_router,
    activities_router,
    incentives_router,
    events_router,
    feedback_router,
    moderation_router,
    # Before any other /v1/reports router: /v1/reports/runs must not match a report's path.
    report_runs_router,
    exports_router,
    reports_router,
]

DESCRIPTION = """
Hearth keeps technology communities, their members and advocates, and turns what members do
into points, tiers and rewards.

**Authentication.** Send `Authorization: Bearer <token>`: a staff token from `POST /v1/auth/login`
or an API key from `POST /v1/api-keys`. Each operation names the permission it needs.

**Errors** are RFC 9457 problem details (`application/problem+json`). **Lists** return
`{"items": [...], "next_cursor": ...}`; pass `cursor` to get the next page.
"""


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    configure_logging(json_logs=settings.json_logs, level=settings.log_level)
    await ensure_initial_admin(settings)
    yield
    await get_engine().dispose()


def create_app() -> FastAPI:
    app = FastAPI(title="Hearth API", version="1.0.0", description=DESCRIPTION,
                  lifespan=lifespan)
    install_error_handlers(app)
    # GET /v1/me before FastAPI's routing; added first, so it runs inside the observability
    # middleware (request id, access log, metrics).
    app.add_middleware(StatusReadMiddleware)
    install_observability(app)
    for router in ROUTERS:
        document_permissions(router)
        app.include_router(router)
    return app


app = create_app()
