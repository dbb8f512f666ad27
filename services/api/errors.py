"""RFC 9457 problem details for every error, so clients parse one shape and never see a trace."""

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("hearth.api")


class ProblemError(Exception):
    """A business-rule refusal with a stable machine-readable `type` slug."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        type_: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ):
        self.status = status
        self.headers = headers or {}
        self.detail = detail
        self.type = type_ or "about:blank"
        self.extra = extra


class NotFoundError(ProblemError):
    def __init__(self, what: str, ident: object):
        super().__init__(404, f"{what} {ident} does not exist", type_="not-found")


class ConflictError(ProblemError):
    def __init__(self, detail: str, **extra: Any):
        super().__init__(409, detail, type_="conflict", **extra)


def problem(status: int, detail: str, *, type_: str = "about:blank", **extra: Any) -> JSONResponse:
    body = {"type": type_, "title": HTTPStatus(status).phrase, "status": status, "detail": detail}
    body.update(extra)
    return JSONResponse(jsonable_encoder(body), status_code=status, media_type=PROBLEM_JSON)


def problem_response(exc: ProblemError) -> JSONResponse:
    """The response for a ProblemError, as the exception handler sends it."""
    response = problem(exc.status, exc.detail, type_=exc.type, **exc.extra)
    response.headers.update(exc.headers)
    return response


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": list(error["loc"]), "msg": error["msg"], "type": error["type"]}
        for error in exc.errors()
    ]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(_: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = problem(exc.status_code, str(exc.detail))
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:5])
        return problem(422, detail, type_="validation-error", errors=errors)

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        # Services check uniqueness first for a precise message; this catches the race where two
        # requests pass that check at once and the database constraint decides.
        log.info("integrity error: %s", exc.orig)
        return problem(409, "This conflicts with data that already exists.", type_="conflict")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        rid = getattr(request.state, "request_id", None)
        log.exception("unhandled error on %s %s (request %s)", request.method, request.url.path,
                      rid)
        response = problem(500, "An unexpected error occurred; it has been logged.",
                           request_id=rid)
        if rid:
            response.headers["X-Request-ID"] = rid
        return response
