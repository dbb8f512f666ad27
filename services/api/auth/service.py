from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.auth import repository
from services.api.auth.principal import Principal
from services.api.auth.schemas import LoginRequest, TokenRead, WhoAmI
from services.api.auth.security import digest, new_token, verify_password
from services.api.errors import ProblemError
from shared.models import AuthToken
from shared.models.base import utcnow
from shared.settings import get_settings


async def login(session: AsyncSession, credentials: LoginRequest) -> TokenRead:
    user = await repository.get_staff_by_email(session, credentials.email)
    valid = verify_password(user.password_hash if user else None, credentials.password)
    if not (user and valid and user.is_active):
        # One message for every cause, so the answer does not reveal which accounts exist.
        raise ProblemError(401, "Wrong email or password.", type_="invalid-credentials")
    token = new_token("hst")
    now = utcnow()
    expires_at = now + timedelta(hours=get_settings().staff_token_ttl_hours)
    session.add(AuthToken(token_hash=digest(token), staff_user_id=user.id, expires_at=expires_at))
    user.last_login_at = now
    session.add(user)
    return TokenRead(access_token=token, expires_at=expires_at)


async def logout(session: AsyncSession, principal: Principal) -> None:
    if principal.token_id is None:
        raise ProblemError(400, "Only a sign-in token can be signed out; revoke API keys instead.")
    token = await repository.get_token(session, principal.token_id)
    if token and token.revoked_at is None:
        token.revoked_at = utcnow()
        session.add(token)


def whoami(principal: Principal) -> WhoAmI:
    permissions = sorted(principal.permissions)
    if principal.staff_user:
        user = principal.staff_user
        return WhoAmI(kind="staff", id=user.id, name=user.name, role=user.role,
                      permissions=permissions)
    if principal.advocate is not None:
        return WhoAmI(kind="advocate", id=principal.advocate.id, name=principal.advocate.name,
                      permissions=permissions)
    key = principal.api_key
    return WhoAmI(kind="api_key", id=key.id, name=key.name, permissions=permissions)
