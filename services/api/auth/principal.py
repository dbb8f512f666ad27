"""Resolving the bearer token of a request into the caller and checking its permission."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.advocates import repository as advocate_repository
from services.api.advocates.schemas import AdvocateRead
from services.api.auth import repository
from services.api.auth.permissions import ROLE_PERMISSIONS, Permission
from services.api.auth.security import digest
from services.api.deps import SessionDep
from services.api.errors import ProblemError
from shared.db import (
    get_engine,
    get_read_sessionmaker,
    get_sessionmaker,
    retry_on_stale_connection,
)
from shared.models import ApiKey, StaffUser
from shared.models.base import utcnow
from shared.models.enums import StaffRole

bearer = HTTPBearer(auto_error=False,
                    description="A staff sign-in token, an API key or an advocate's access link.")

# Advocates' access-link tokens carry their own prefix, so resolving one costs a single lookup
# (GET /v1/me is the hottest read) and never touches the staff tables.
ADVOCATE_TOKEN_PREFIX = "hat"  # noqa: S105 (a prefix, not a secret)

# Writing last_used_at on every request would turn reads into writes;
# a minute's precision is plenty.
_LAST_USED_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class Principal:
    permissions: frozenset[str]
    staff_user: StaffUser | None = None
    api_key: ApiKey | None = None
    token_id: int | None = None
    # An advocate's access link: no staff permission at all; it reaches only /v1/me. The advocate
    # is read by the query that checks the link, so GET /v1/me needs no other.
    advocate: AdvocateRead | None = None

    @property
    def staff_user_id(self) -> int | None:
        return self.staff_user.id if self.staff_user else None

    @property
    def advocate_id(self) -> int | None:
        return self.advocate.id if self.advocate else None

    @property
    def caller(self) -> str:
        """The caller as audit trails name it: `staff:7`, `api_key:3` or `advocate:12`."""
        if self.staff_user:
            return f"staff:{self.staff_user.id}"
        if self.api_key:
            return f"api_key:{self.api_key.id}"
        return f"advocate:{self.advocate_id}"


def _unauthorized(detail: str) -> ProblemError:
    return ProblemError(401, detail, type_="unauthorized", headers={"WWW-Authenticate": "Bearer"})


CredentialsDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def _is_access_link(credentials: HTTPAuthorizationCredentials | None) -> bool:
    return (credentials is not None
            and credentials.credentials.startswith(f"{ADVOCATE_TOKEN_PREFIX}_"))


async def authenticate(session: SessionDep, credentials: CredentialsDep) -> Principal:
    # Every request's first statement: a pooled connection found dead is replaced here.
    return await retry_on_stale_connection(session, lambda: _resolve(session, credentials))


async def _resolve(
    session: AsyncSession, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    if credentials is None:
        raise _unauthorized("Sign in: send `Authorization: Bearer <token>`.")
    token_hash = digest(credentials.credentials)
    now = utcnow()
    if _is_access_link(credentials):
        return await _authenticate_advocate(session, token_hash, now)
    found = await repository.get_staff_by_token(session, token_hash, now)
    if found:
        token, user = found
        return Principal(
            permissions=frozenset(ROLE_PERMISSIONS[StaffRole(user.role)]),
            staff_user=user,
            token_id=token.id,
        )
    api_key = await repository.get_active_api_key(session, token_hash)
    if api_key:
        if api_key.last_used_at is None or now - api_key.last_used_at > _LAST_USED_PRECISION:
            api_key.last_used_at = now
            session.add(api_key)
        return Principal(permissions=frozenset(api_key.scopes), api_key=api_key)
    raise _unauthorized("The token is unknown, expired or revoked.")


async def _authenticate_advocate(
    session: AsyncSession, token_hash: str, now: datetime
) -> Principal:
    return _advocate_principal(
        await advocate_repository.get_view_by_access_token(session, token_hash, now))


def _advocate_principal(row) -> Principal:
    if row is None:
        raise _unauthorized("The access link is unknown, expired or revoked, "
                            "or the advocate was removed from the program.")
    return Principal(permissions=frozenset(), advocate=AdvocateRead.from_view(row))


async def _advocate_self(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
    if principal.advocate_id is None:
        raise ProblemError(403, "Only an advocate's access link reaches /v1/me.",
                           type_="forbidden")
    return principal


# The advocate behind an access-link token, for the /v1/me endpoints.
AdvocateSelfDep = Annotated[Principal, Depends(_advocate_self)]


async def advocate_self_reading(credentials: CredentialsDep) -> Principal:
    """AdvocateSelfDep for a handler that needs nothing but the advocate (GET /v1/me): the link
    is checked and its advocate read by one query outside any transaction, before the handler
    runs: on PostgreSQL straight on the driver's connection (shared.db.PreparedRead), elsewhere
    in an autocommit session. Any other token takes the usual way to its 401 or 403. Also what
    `services.api.me.status` calls to serve GET /v1/me outside FastAPI's routing."""
    if not _is_access_link(credentials):
        async with get_sessionmaker()() as session:
            return await _advocate_self(await authenticate(session, credentials))
    token_hash, now, engine = digest(credentials.credentials), utcnow(), get_engine()
    if engine.dialect.name == "postgresql":
        return _advocate_principal(
            await advocate_repository.read_view_by_access_token(engine, token_hash, now))
    async with get_read_sessionmaker()() as session:
        return await retry_on_stale_connection(
            session, lambda: _authenticate_advocate(session, token_hash, now))


AdvocateSelfReadingDep = Annotated[Principal, Depends(advocate_self_reading)]


class RequirePermission:
    """A dependency that lets the call through only with `permission`. The OpenAPI document
    names the permission on every operation (see `services.api.openapi`)."""

    def __init__(self, permission: Permission):
        self.permission = permission

    async def __call__(self, principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if self.permission not in principal.permissions:
            raise ProblemError(
                403, f"This needs the `{self.permission}` permission.", type_="forbidden"
            )
        return principal


def requires(permission: Permission):
    return Annotated[Principal, Depends(RequirePermission(permission))]
