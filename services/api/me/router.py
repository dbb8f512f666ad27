"""The advocate's own view, for the token of their personal access link (and nothing else:
staff tokens and API keys get 403 here, and the link's token gets 403 everywhere else)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from services.api.advocates import service as advocates_service
from services.api.advocates.schemas import AdvocateRead, LedgerPage
from services.api.auth.principal import AdvocateSelfDep, AdvocateSelfReadingDep
from services.api.deps import SessionDep
from services.api.feedback import service as feedback_service
from services.api.feedback.schemas import FeedbackPage, FeedbackSort
from services.api.me import service
from services.api.me.schemas import MyRedemptionCreate, MyRewardPage
from services.api.pagination import PageParams, page_params
from services.api.redemptions import service as redemptions_service
from services.api.redemptions.schemas import RedemptionPage, RedemptionRead
from shared.schemas.types import RowId

router = APIRouter(prefix="/v1/me", tags=["me"])
PageDep = Annotated[PageParams, Depends(page_params)]


@router.get("", summary="My status: balance, tier and progress to the next",
            response_model=AdvocateRead)
async def get_me(me: AdvocateSelfReadingDep):
    """Read with the access link itself: one indexed query per call, outside any transaction.
    The advocate is a validated AdvocateRead already: serialised once, not validated again."""
    return Response(me.advocate.model_dump_json(), media_type="application/json")


@router.get("/ledger", summary="My point movements, newest first", response_model=LedgerPage)
async def get_my_ledger(session: SessionDep, me: AdvocateSelfDep, params: PageDep):
    return await advocates_service.list_ledger(session, me.advocate_id, params)


@router.get("/rewards", summary="Rewards on offer, and which I can afford",
            response_model=MyRewardPage)
async def list_my_rewards(session: SessionDep, me: AdvocateSelfDep, params: PageDep):
    return await service.list_rewards(session, me.advocate.balance, params)


@router.get("/redemptions", summary="My redemptions, newest first",
            response_model=RedemptionPage)
async def list_my_redemptions(session: SessionDep, me: AdvocateSelfDep, params: PageDep):
    return await redemptions_service.list_redemptions(session, params, newest_first=True,
                                                      advocate_id=me.advocate_id)


@router.post("/redemptions", summary="Redeem a reward", status_code=201,
             response_model=RedemptionRead)
async def request_my_redemption(body: MyRedemptionCreate, session: SessionDep,
                                me: AdvocateSelfDep):
    """A paused advocate may look but not redeem (409 `advocate-not-active`)."""
    return await redemptions_service.request_redemption(session, me.advocate_id, body.reward_id,
                                                        me)


@router.get("/redemptions/{redemption_id}", summary="One of my redemptions",
            response_model=RedemptionRead)
async def get_my_redemption(redemption_id: RowId, session: SessionDep, me: AdvocateSelfDep):
    return await redemptions_service.read_redemption(session, redemption_id, me.advocate_id)


@router.post("/redemptions/{redemption_id}/cancel",
             summary="Cancel one of my redemptions while it awaits approval (refunds)",
             response_model=RedemptionRead)
async def cancel_my_redemption(redemption_id: RowId, session: SessionDep, me: AdvocateSelfDep):
    return await redemptions_service.cancel(session, redemption_id, me)


@router.get("/feedback", summary="The feedback I gave, newest first, with its status and answer",
            response_model=FeedbackPage)
async def list_my_feedback(session: SessionDep, me: AdvocateSelfDep, params: PageDep):
    """Feedback is given by the member, so it is theirs whether or not it came in before they
    joined the program."""
    return await feedback_service.list_feedback(session, params, sort=FeedbackSort.created_at,
                                                member_id=me.advocate.member_id)
