"""GET /v1/me, the hottest read, served by a small ASGI branch in front of FastAPI's routing.

It runs inside the observability middleware (request id, access log, metrics as for any route)
and answers exactly what the route in `services.api.me.router` answers: the same bearer parsing
(`principal.bearer`), the same check of the token (`principal.advocate_self_reading`: an
access link's advocate, or the usual 401/403 for anything else), the same problem responses
(`errors.problem_response`), the advocate serialised once. What it leaves out is FastAPI's
per-request work for a route: matching, dependency resolution, the handler's wrapping. The
route stays registered, so the OpenAPI document describes /v1/me as before. Any other request,
and any other method on /v1/me, goes on to FastAPI."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from services.api.auth.principal import advocate_self_reading, bearer
from services.api.errors import ProblemError, problem_response
from services.api.me.router import router

PATH = "/v1/me"
# The route as metrics label it (`observability` reads scope["route"].path).
ROUTE = next(route for route in router.routes
             if getattr(route, "path", None) == PATH and "GET" in getattr(route, "methods", ()))


class StatusReadMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        scope["route"] = ROUTE
        try:
            principal = await advocate_self_reading(await bearer(Request(scope)))
        except ProblemError as refusal:
            response = problem_response(refusal)
        else:
            response = Response(principal.advocate.model_dump_json(),
                                media_type="application/json")
        await response(scope, receive, send)
