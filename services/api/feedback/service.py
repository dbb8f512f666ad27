"""Feedback and its loop: members submit it (which records a `feedback_submitted` activity), staff
move it along and answer, members vote on ideas."""

from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.activities.schemas import ActivityCreate
from services.api.activities.service import create_activity, invalid_body
from services.api.auth.principal import Principal
from services.api.errors import ConflictError, NotFoundError, ProblemError
from services.api.feedback import repository
from services.api.feedback.schemas import (
    TRANSITIONS,
    FeedbackCreate,
    FeedbackKind,
    FeedbackPage,
    FeedbackRead,
    FeedbackSort,
    FeedbackUpdate,
    VoteResult,
)
from services.api.pagination import PageParams, make_page
from shared.models import Community, Event, Feedback, Member
from shared.models.base import utcnow
from shared.models.enums import MemberStatus

ACTIVITY_SOURCE = "hearth-feedback"
SUBMITTED = "feedback_submitted"


def _read(row: tuple[Feedback, str]) -> FeedbackRead:
    feedback, member_name = row
    return FeedbackRead(**feedback.model_dump(), member_name=member_name)


def _unknown(field: str, what: str, ident: int) -> ProblemError:
    return invalid_body([{"loc": [field], "msg": f"{what} {ident} does not exist",
                          "type": "not_found"}])


async def read_feedback(session: AsyncSession, feedback_id: int) -> FeedbackRead:
    row = await repository.get_view(session, feedback_id)
    if row is None:
        raise NotFoundError("Feedback", feedback_id)
    return _read(row)


async def list_feedback(
    session: AsyncSession, params: PageParams, *, sort: FeedbackSort, **filters
) -> FeedbackPage:
    by_votes = sort == FeedbackSort.votes
    rows = await repository.list_views(session, params, by_votes=by_votes, **filters)
    items, cursor = make_page([feedback for feedback, _ in rows], params,
                              sort="vote_count" if by_votes else None)
    names = {feedback.id: name for feedback, name in rows}
    return FeedbackPage(items=[_read((f, names[f.id])) for f in items], next_cursor=cursor)


async def _author(session: AsyncSession, member_id: int) -> Member:
    """A member who may give feedback and vote: one who exists and is not banned."""
    member = await session.get(Member, member_id)
    if member is None:
        raise _unknown("member_id", "member", member_id)
    if member.status == MemberStatus.banned:
        raise ProblemError(409, f"Member {member_id} is banned and cannot give feedback or vote.",
                           type_="member-banned")
    return member


async def _community_of(session: AsyncSession, body: FeedbackCreate) -> int | None:
    """The feedback's community: as sent, or the event's. An event of another community than
    the one sent is refused."""
    community_id = body.community_id
    if body.event_id is not None:
        event = await session.get(Event, body.event_id)
        if event is None:
            raise _unknown("event_id", "event", body.event_id)
        if community_id not in (None, event.community_id):
            raise invalid_body([{"loc": ["community_id"], "type": "value_error",
                                 "msg": f"event {event.id} belongs to community "
                                        f"{event.community_id}, not {community_id}"}])
        community_id = event.community_id
    if community_id is not None and await session.get(Community, community_id) is None:
        raise _unknown("community_id", "community", community_id)
    return community_id


async def submit_feedback(session: AsyncSession, body: FeedbackCreate) -> tuple[int, FeedbackRead]:
    await _author(session, body.member_id)
    community_id = await _community_of(session, body)
    feedback = Feedback(**body.model_dump(exclude={"community_id"}), community_id=community_id)
    session.add(feedback)
    await session.flush()
    # Recorded like any integration's activity, so the incentives for feedback apply; its key
    # makes it one per feedback.
    await create_activity(session, ActivityCreate(
        member_id=feedback.member_id, community_id=community_id, kind=SUBMITTED,
        occurred_at=feedback.created_at, source=ACTIVITY_SOURCE,
        external_id=f"feedback:{feedback.id}",
        properties={"feedback_id": feedback.id, "kind": feedback.kind}))
    return 201, await read_feedback(session, feedback.id)


async def update_feedback(
    session: AsyncSession, feedback_id: int, body: FeedbackUpdate, principal: Principal
) -> FeedbackRead:
    current = (await read_feedback(session, feedback_id)).status
    now = utcnow()
    values = {}
    if body.status is not None:
        if body.status not in TRANSITIONS[current]:
            allowed = sorted(TRANSITIONS[current])
            raise ConflictError(
                f"Feedback {feedback_id} is {current}; it cannot move to {body.status}"
                + (f" (only to {', '.join(allowed)})." if allowed else ": it is closed."),
                current_status=current, allowed=allowed)
        values["status"] = body.status
    if body.staff_response is not None:
        values.update(staff_response=body.staff_response,
                      responded_by_id=principal.staff_user_id, responded_at=now)
    if not await repository.move_status(session, feedback_id, current, values, now):
        moved = (await read_feedback(session, feedback_id)).status
        raise ConflictError(f"Feedback {feedback_id} moved to {moved} meanwhile; look again.",
                            current_status=moved)
    return await read_feedback(session, feedback_id)


async def _idea(session: AsyncSession, feedback_id: int) -> FeedbackRead:
    feedback = await read_feedback(session, feedback_id)
    if feedback.kind != FeedbackKind.idea:
        raise ProblemError(409, f"Feedback {feedback_id} is {feedback.kind} feedback; only ideas "
                                "take votes.", type_="not-an-idea")
    return feedback


async def vote(
    session: AsyncSession, feedback_id: int, member_id: int
) -> tuple[int, VoteResult]:
    """201 for a new vote; 200 when the member had voted already (nothing changes)."""
    await _idea(session, feedback_id)
    await _author(session, member_id)
    added = await repository.add_vote(session, feedback_id, member_id, utcnow())
    return (201 if added else 200), VoteResult(
        feedback_id=feedback_id, member_id=member_id, voted=True,
        vote_count=await repository.vote_count(session, feedback_id))


async def withdraw_vote(session: AsyncSession, feedback_id: int, member_id: int) -> VoteResult:
    """Withdrawing a vote that is not there changes nothing either."""
    await _idea(session, feedback_id)
    await repository.remove_vote(session, feedback_id, member_id)
    return VoteResult(feedback_id=feedback_id, member_id=member_id, voted=False,
                      vote_count=await repository.vote_count(session, feedback_id))
