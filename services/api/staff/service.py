import logging
import secrets

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.auth.repository import get_staff_by_email
from services.api.auth.security import hash_password
from services.api.errors import ConflictError, NotFoundError, ProblemError
from services.api.pagination import PageParams, make_page
from services.api.staff import repository
from services.api.staff.schemas import StaffCreate, StaffPage, StaffRead, StaffUpdate
from shared.db import session_scope
from shared.models import StaffUser
from shared.models.enums import StaffRole
from shared.settings import Settings

log = logging.getLogger("hearth.api")


async def create_staff(session: AsyncSession, body: StaffCreate) -> StaffUser:
    if await get_staff_by_email(session, body.email):
        raise ConflictError(f"A staff user with email {body.email} already exists.")
    user = StaffUser(
        email=body.email.lower(), name=body.name, role=body.role,
        password_hash=hash_password(body.password),
    )
    session.add(user)
    await session.flush()
    return user


async def get_staff(session: AsyncSession, staff_id: int) -> StaffUser:
    user = await session.get(StaffUser, staff_id)
    if user is None:
        raise NotFoundError("Staff user", staff_id)
    return user


async def list_staff(
    session: AsyncSession, params: PageParams, role: StaffRole | None, active: bool | None
) -> StaffPage:
    rows = await repository.list_staff(session, params, role=role, active=active)
    items, cursor = make_page(rows, params)
    return StaffPage(items=[StaffRead.model_validate(u) for u in items], next_cursor=cursor)


async def _refuse_losing_last_admin(session: AsyncSession, user: StaffUser) -> None:
    is_active_admin = user.role == StaffRole.admin and user.is_active
    if is_active_admin and await repository.count_active_admins(session) <= 1:
        raise ProblemError(409, "Hearth needs at least one active admin.", type_="last-admin")


async def update_staff(session: AsyncSession, staff_id: int, body: StaffUpdate) -> StaffUser:
    user = await get_staff(session, staff_id)
    if body.role is not None and body.role != user.role:
        await _refuse_losing_last_admin(session, user)
        user.role = body.role
    if body.name is not None:
        user.name = body.name
    session.add(user)
    return user


async def deactivate_staff(session: AsyncSession, staff_id: int) -> StaffUser:
    """Deactivation takes effect at once: every token of the user stops authenticating."""
    user = await get_staff(session, staff_id)
    await _refuse_losing_last_admin(session, user)
    user.is_active = False
    session.add(user)
    return user


async def ensure_initial_admin(settings: Settings) -> None:
    """On start, if no staff user exists, create the admin from the environment (or a
    generated one whose password is printed once)."""
    email = (settings.admin_email or "admin@localhost").lower()
    password = settings.admin_password or secrets.token_urlsafe(12)
    try:
        async with session_scope() as session:
            if await repository.count_staff(session) > 0:
                return
            session.add(StaffUser(email=email, name="Administrator", role=StaffRole.admin,
                                  password_hash=hash_password(password)))
    except IntegrityError:
        return  # another replica created it first
    if settings.admin_password:
        log.warning("created the first admin %s (password from HEARTH_ADMIN_PASSWORD)", email)
    else:
        # Printed once, on purpose: there is no other way to learn it.
        print(f"\n  Hearth admin created: {email} / {password}\n", flush=True)
