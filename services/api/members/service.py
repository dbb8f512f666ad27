from fastapi import UploadFile
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.auth.principal import Principal
from services.api.errors import ConflictError, NotFoundError, ProblemError
from services.api.members import repository
from services.api.members.schemas import (
    IdentityIn,
    IdentityRead,
    ImportAccepted,
    MemberCreate,
    MemberPage,
    MemberRead,
    MembershipCreate,
    MembershipPage,
    MembershipRead,
    MembershipUpdate,
    MemberUpdate,
)
from services.api.pagination import PageParams, make_page
from shared.member_csv import CsvFormatError, new_import_job
from shared.models import Community, Member, MemberIdentity, Membership
from shared.models.base import utcnow
from shared.models.enums import JobStatus
from shared.models.members import email_key_of

MAX_IMPORT_BYTES = 5 * 1024 * 1024


def member_read(member: Member, identities: list[MemberIdentity]) -> MemberRead:
    """What the API returns for a member; CSV exports build their rows from it too."""
    return MemberRead.model_validate(
        {**member.model_dump(), "identities": [IdentityRead.model_validate(i) for i in identities]}
    )


async def get_member(session: AsyncSession, member_id: int) -> Member:
    member = await session.get(Member, member_id)
    if member is None:
        raise NotFoundError("Member", member_id)
    return member


async def _editable_member(session: AsyncSession, member_id: int) -> Member:
    member = await get_member(session, member_id)
    if member.erased_at is not None:
        raise ConflictError(f"Member {member_id} was erased; an erased member cannot be changed.")
    return member


async def read_member(session: AsyncSession, member_id: int) -> MemberRead:
    member = await get_member(session, member_id)
    identities = await repository.identities_of(session, [member_id])
    return member_read(member, identities[member_id])


async def _refuse_taken_email(session: AsyncSession, email: str, member_id: int | None) -> None:
    other = await repository.get_by_email_key(session, email_key_of(email))
    if other is not None and other.id != member_id:
        raise ConflictError(f"Member {other.id} already has the email {email}.", field="email")


async def _set_identities(
    session: AsyncSession, member_id: int, identities: list[IdentityIn]
) -> list[MemberIdentity]:
    pairs = [(identity.provider, identity.external_id) for identity in identities]
    taken = await repository.identities_taken_by_others(session, pairs, member_id)
    if taken:
        names = ", ".join(f"{i.provider}:{i.external_id} (member {i.member_id})" for i in taken)
        raise ConflictError(f"Identities belong to another member: {names}.", field="identities")
    await repository.delete_identities(session, member_id)
    rows = [MemberIdentity(member_id=member_id, provider=provider, external_id=external_id)
            for provider, external_id in pairs]
    session.add_all(rows)
    await session.flush()
    return rows


async def create_member(session: AsyncSession, body: MemberCreate) -> MemberRead:
    await _refuse_taken_email(session, body.email, None)
    member = Member(**body.model_dump(exclude={"identities"}), email_key=email_key_of(body.email))
    session.add(member)
    await session.flush()
    identities = await _set_identities(session, member.id, body.identities)
    return member_read(member, identities)


async def update_member(session: AsyncSession, member_id: int, body: MemberUpdate) -> MemberRead:
    member = await _editable_member(session, member_id)
    changes = body.model_dump(exclude_unset=True, exclude={"identities"})
    if "email" in changes:
        await _refuse_taken_email(session, changes["email"], member_id)
        changes["email_key"] = email_key_of(changes["email"])
    if "identities" in body.model_fields_set:
        await _set_identities(session, member_id, body.identities)
    if changes or "identities" in body.model_fields_set:
        member.sqlmodel_update(changes)
        # Set explicitly: a change of identities alone does not touch the member row.
        member.updated_at = utcnow()
        session.add(member)
        await session.flush()
    return await read_member(session, member_id)


async def erase_member(session: AsyncSession, member_id: int) -> MemberRead:
    """Removes the person's data and keeps the row, its id and all history that points at it, so
    counts and ledgers stay consistent. Erasing an erased member changes nothing."""
    member = await get_member(session, member_id)
    if member.erased_at is None:
        member.sqlmodel_update({
            "name": f"Erased member #{member.id}", "email": None, "email_key": None,
            "handle": None, "country": None, "timezone": None, "interests": [],
            "referred_by_code": None, "erased_at": utcnow(),
        })
        await repository.delete_identities(session, member_id)
        session.add(member)
        await session.flush()
    return member_read(member, [])


async def list_members(session: AsyncSession, params: PageParams, **filters) -> MemberPage:
    rows = await repository.list_members(session, params, **filters)
    members, cursor = make_page(rows, params)
    identities = await repository.identities_of(session, [member.id for member in members])
    return MemberPage(items=[member_read(m, identities[m.id]) for m in members], next_cursor=cursor)


def _read_membership(membership: Membership, community_name: str) -> MembershipRead:
    return MembershipRead.model_validate(
        {**membership.model_dump(), "community_name": community_name}
    )


async def _membership(
    session: AsyncSession, member_id: int, membership_id: int
) -> tuple[Membership, str]:
    found = await repository.get_membership(session, member_id, membership_id)
    if found is None:
        raise NotFoundError(f"Membership of member {member_id}", membership_id)
    return found


async def list_memberships(
    session: AsyncSession, member_id: int, params: PageParams
) -> MembershipPage:
    await get_member(session, member_id)
    rows = await repository.list_memberships(session, member_id, params)
    items, cursor = make_page([membership for membership, _ in rows], params)
    names = {membership.id: name for membership, name in rows}
    return MembershipPage(items=[_read_membership(m, names[m.id]) for m in items],
                          next_cursor=cursor)


async def create_membership(
    session: AsyncSession, member_id: int, body: MembershipCreate
) -> MembershipRead:
    await _editable_member(session, member_id)
    community = await session.get(Community, body.community_id)
    if community is None:
        detail = f"community_id: community {body.community_id} does not exist"
        raise ProblemError(422, detail, type_="validation-error", errors=[
            {"loc": ["body", "community_id"], "msg": detail, "type": "not_found"}])
    if await repository.membership_exists(session, member_id, community.id):
        raise ConflictError(f"Member {member_id} is already in community {community.id}.",
                            field="community_id")
    membership = Membership(member_id=member_id, community_id=community.id, role=body.role,
                            joined_at=body.joined_at or utcnow())
    session.add(membership)
    await session.flush()
    return _read_membership(membership, community.name)


async def update_membership(
    session: AsyncSession, member_id: int, membership_id: int, body: MembershipUpdate
) -> MembershipRead:
    await _editable_member(session, member_id)
    membership, community_name = await _membership(session, member_id, membership_id)
    membership.sqlmodel_update(body.model_dump(exclude_unset=True))
    session.add(membership)
    await session.flush()
    return _read_membership(membership, community_name)


async def delete_membership(session: AsyncSession, member_id: int, membership_id: int) -> None:
    await _editable_member(session, member_id)
    membership, _ = await _membership(session, member_id, membership_id)
    await session.delete(membership)


async def start_import(
    session: AsyncSession, upload: UploadFile, principal: Principal
) -> ImportAccepted:
    """Stores the file in a queued job. The caller queues it once this transaction commits."""
    data = await upload.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise ProblemError(413, f"The file is larger than {MAX_IMPORT_BYTES // 1024 // 1024} MB; "
                                "split it into smaller files.", type_="payload-too-large")
    try:
        job = new_import_job(data, filename=upload.filename,
                             created_by_id=principal.staff_user_id)
    except CsvFormatError as exc:
        raise ProblemError(422, str(exc), type_="invalid-csv") from exc
    session.add(job)
    await session.flush()
    return ImportAccepted(job_id=job.id, status=JobStatus(job.status), url=f"/v1/jobs/{job.id}")
