import secrets
import unicodedata
import uuid
from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.advocates import repository
from services.api.advocates.problems import insufficient_points, unknown_reference
from services.api.advocates.schemas import (
    AccessLinkCreate,
    AccessLinkPage,
    AccessLinkRead,
    AccessLinksRevoked,
    AccessLinkSummary,
    ActivityCause,
    AdjustmentCreate,
    AdvocateCreate,
    AdvocatePage,
    AdvocateRead,
    AdvocateSort,
    AdvocateStatus,
    IncentiveCause,
    LedgerEntryRead,
    LedgerPage,
    RedemptionCause,
    StaffCause,
)
from services.api.auth.principal import ADVOCATE_TOKEN_PREFIX, Principal
from services.api.auth.security import digest, new_token
from services.api.errors import ConflictError, NotFoundError, ProblemError
from services.api.pagination import PageParams, make_page
from services.api.redemptions import service as redemptions
from shared import ledger
from shared.ledger import EntryKind, InsufficientPointsError, Posting
from shared.models import Advocate, AdvocateAccessLink, Member
from shared.models.base import utcnow
from shared.models.enums import MemberStatus
from shared.settings import get_settings

# No 0/O, 1/I/L: a code read aloud at a meetup or copied from a slide survives.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_INELIGIBLE = {MemberStatus.banned, MemberStatus.suspended}

# action: (the statuses it applies to, the status it leads to)
_TRANSITIONS = {
    "pause": ({AdvocateStatus.active}, AdvocateStatus.paused),
    "resume": ({AdvocateStatus.paused}, AdvocateStatus.active),
    "remove": ({AdvocateStatus.active, AdvocateStatus.paused}, AdvocateStatus.removed),
}


async def get_advocate(session: AsyncSession, advocate_id: int) -> Advocate:
    advocate = await session.get(Advocate, advocate_id)
    if advocate is None:
        raise NotFoundError("Advocate", advocate_id)
    return advocate


async def read_advocate(session: AsyncSession, advocate_id: int) -> AdvocateRead:
    row = await repository.get_view(session, advocate_id)
    if row is None:
        raise NotFoundError("Advocate", advocate_id)
    return AdvocateRead.from_view(row)


async def list_advocates(
    session: AsyncSession, params: PageParams, sort: AdvocateSort, **filters
) -> AdvocatePage:
    rows = await repository.list_views(session, params, sort=sort, **filters)
    items, cursor = make_page([AdvocateRead.from_view(row) for row in rows], params,
                              sort=None if sort == AdvocateSort.id else sort)
    return AdvocatePage(items=items, next_cursor=cursor)


def _referral_prefix(name: str) -> str:
    letters = [c for c in unicodedata.normalize("NFKD", name).upper() if "A" <= c <= "Z"]
    return "".join(letters[:3]) or "ADV"


async def _free_referral_code(session: AsyncSession, name: str) -> str:
    """ADA-7K2Q: readable, and checked against the codes in use a batch at a time. Longer
    suffixes only if a prefix's space ever fills up; the unique constraint settles a race."""
    prefix = _referral_prefix(name)
    for length in (4, 6, 8):
        candidates = {prefix + "-" + "".join(secrets.choice(_CODE_ALPHABET) for _ in range(length))
                      for _ in range(10)}
        free = candidates - await repository.taken_referral_codes(session, candidates)
        if free:
            return min(free)
    raise ProblemError(503, "No free referral code was found; try again.")


def _refuse_ineligible(member: Member) -> None:
    if member.erased_at is not None:
        raise ProblemError(409, f"Member {member.id} was erased and cannot be enrolled.",
                           type_="member-not-eligible", reason="erased")
    if member.status in _INELIGIBLE:
        raise ProblemError(409, f"Member {member.id} is {member.status} and cannot be enrolled.",
                           type_="member-not-eligible", reason=member.status)


async def enrol(session: AsyncSession, body: AdvocateCreate) -> tuple[AdvocateRead, bool]:
    """Returns the advocate and whether it is new (a removed advocate re-enrolled keeps its id,
    balance and history)."""
    member = await session.get(Member, body.member_id)
    if member is None:
        raise unknown_reference("member_id", "member", body.member_id)
    _refuse_ineligible(member)
    advocate = await repository.get_by_member(session, member.id)
    created = advocate is None
    if advocate is None:
        advocate = Advocate(member_id=member.id,
                            referral_code=await _free_referral_code(session, member.name))
    elif advocate.status == AdvocateStatus.removed:
        advocate.status = AdvocateStatus.active
    else:
        raise ConflictError(f"Member {member.id} is already enrolled as advocate {advocate.id}.",
                            advocate_id=advocate.id)
    session.add(advocate)
    await session.flush()
    # A tier that starts at 0 points is held from the first day.
    await ledger.promote_tiers(session, [advocate.id])
    return await read_advocate(session, advocate.id), created


async def change_status(
    session: AsyncSession, advocate_id: int, action: str, principal: Principal
) -> AdvocateRead:
    """Removing an advocate also cancels their redemptions not yet handed over, refunding the
    points, in the same transaction: a removed advocate keeps no open claim on the catalogue."""
    advocate = await repository.lock(session, advocate_id)
    if advocate is None:
        raise NotFoundError("Advocate", advocate_id)
    allowed, target = _TRANSITIONS[action]
    if advocate.status not in allowed:
        raise ConflictError(f"Advocate {advocate_id} is {advocate.status}; "
                            f"it cannot be {action}d.", current_status=advocate.status)
    advocate.status = target
    session.add(advocate)
    await session.flush()
    if target == AdvocateStatus.removed:
        await redemptions.cancel_pending(session, advocate.member_id, principal)
    return await read_advocate(session, advocate_id)


def ledger_entry_read(row) -> LedgerEntryRead:
    entry, activity_kind, incentive_name, reward_id, reward_name, staff_name = row
    return LedgerEntryRead(
        **entry.model_dump(include={"id", "kind", "points", "reason", "created_at"}),
        activity=(ActivityCause(id=entry.activity_id, kind=activity_kind)
                  if entry.activity_id else None),
        incentive=(IncentiveCause(id=entry.incentive_id, name=incentive_name,
                                  version=entry.incentive_version)
                   if entry.incentive_id else None),
        redemption=(RedemptionCause(id=entry.redemption_id, reward_id=reward_id,
                                    reward_name=reward_name)
                    if entry.redemption_id else None),
        staff_user=(StaffCause(id=entry.staff_user_id, name=staff_name)
                    if entry.staff_user_id else None),
    )


async def list_ledger(session: AsyncSession, advocate_id: int, params: PageParams) -> LedgerPage:
    await get_advocate(session, advocate_id)
    rows = await repository.list_ledger(session, advocate_id, params)
    items, cursor = make_page([ledger_entry_read(row) for row in rows], params)
    return LedgerPage(items=items, next_cursor=cursor)


async def adjust(
    session: AsyncSession, advocate_id: int, body: AdjustmentCreate, principal: Principal
) -> LedgerEntryRead:
    await get_advocate(session, advocate_id)
    # The key names the caller, so an adjustment made with an API key is traceable to that key.
    posting = Posting(advocate_id=advocate_id, kind=EntryKind.adjustment, points=body.points,
                      reason=body.reason, staff_user_id=principal.staff_user_id,
                      idempotency_key=f"adjustment:{principal.caller}:{uuid.uuid4().hex}")
    try:
        entry = await ledger.post(session, posting)
    except InsufficientPointsError as exc:
        raise insufficient_points(exc) from exc
    return ledger_entry_read(await repository.get_ledger_entry(session, entry.id))


async def issue_access_link(
    session: AsyncSession, advocate_id: int, body: AccessLinkCreate, principal: Principal
) -> AccessLinkRead:
    advocate = await get_advocate(session, advocate_id)
    if advocate.status == AdvocateStatus.removed:
        raise ConflictError(f"Advocate {advocate_id} was removed; re-enrol them first.")
    token = new_token(ADVOCATE_TOKEN_PREFIX)
    expires_at = utcnow() + timedelta(days=body.expires_in_days)
    session.add(AdvocateAccessLink(advocate_id=advocate_id, token_hash=digest(token),
                                   expires_at=expires_at, created_by_id=principal.staff_user_id))
    url = f"{get_settings().web_url.rstrip('/')}/a/{token}"
    return AccessLinkRead(url=url, token=token, expires_at=expires_at)


async def list_access_links(
    session: AsyncSession, advocate_id: int, params: PageParams
) -> AccessLinkPage:
    await get_advocate(session, advocate_id)
    now = utcnow()
    links, cursor = make_page(await repository.list_access_links(session, advocate_id, params),
                              params)
    return AccessLinkPage(items=[
        AccessLinkSummary(**link.model_dump(exclude={"advocate_id", "token_hash"}),
                          active=link.revoked_at is None and link.expires_at > now)
        for link in links], next_cursor=cursor)


async def revoke_access_links(
    session: AsyncSession, advocate_id: int, link_id: int | None = None
) -> AccessLinksRevoked:
    """All the advocate's links, or only `link_id` (404 if it is not one of theirs; revoking a
    revoked link again revokes nothing)."""
    await get_advocate(session, advocate_id)
    if link_id is not None and not await repository.access_link_exists(session, advocate_id,
                                                                       link_id):
        raise NotFoundError("Access link", link_id)
    return AccessLinksRevoked(
        revoked=await repository.revoke_access_links(session, advocate_id, utcnow(), link_id))
