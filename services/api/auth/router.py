from typing import Annotated

from fastapi import APIRouter, Depends, Response

from services.api.auth import service
from services.api.auth.principal import Principal, authenticate
from services.api.auth.schemas import LoginRequest, TokenRead, WhoAmI
from services.api.deps import SessionDep

router = APIRouter(prefix="/v1/auth", tags=["auth"])
AuthenticatedDep = Annotated[Principal, Depends(authenticate)]


@router.post("/login", summary="Sign in as staff", response_model=TokenRead)
async def login(body: LoginRequest, session: SessionDep) -> TokenRead:
    """Anyone may call this. Returns a bearer token that expires; sign out revokes it."""
    return await service.login(session, body)


@router.post("/logout", summary="Sign out (revoke this token)", status_code=204)
async def logout(principal: AuthenticatedDep, session: SessionDep) -> Response:
    """Any signed-in staff member, for their own token."""
    await service.logout(session, principal)
    return Response(status_code=204)


@router.get("/me", summary="Who the token belongs to", response_model=WhoAmI)
async def whoami(principal: AuthenticatedDep) -> WhoAmI:
    """Any valid token: the caller's identity and permissions (the web uses it to draw menus)."""
    return service.whoami(principal)
