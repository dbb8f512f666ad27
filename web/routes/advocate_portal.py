"""The advocate's own page, opened by the personal access link (/a/<token>): balance, tier
progress, the explained ledger, rewards to redeem, their redemptions and the feedback they gave
with what became of it.

The link's token lives in the session under its own key, apart from a staff sign-in: staff pages
never see it (they need the staff token) and these pages never use the staff token."""

import asyncio
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.routing import APIRoute

from web import session
from web.client import ApiClient, ApiError
from web.forms import PAGE_SIZE
from web.rendering import is_htmx, redirect, render

# The session key of the access link, apart from the staff token under "token".
LINK_KEY = "advocate_link"
# The portal is not a staff page: its layout shows no staff navigation, even to staff.
NOT_STAFF = {"user": None}


class LinkNotWorking(Exception):
    """No access link in this session, or the API no longer accepts it."""


def _link_expired_page(request: Request) -> Response:
    request.session.pop(LINK_KEY, None)
    return render(request, "portal/expired.html", NOT_STAFF, fragment="content",
                  status_code=401, headers={"HX-Retarget": "#content", "HX-Reswap": "innerHTML"})


class PortalRoute(APIRoute):
    """A dead link is the advocate's everyday case, not an error: they get the page that says to
    ask for a new link, and the staff sign-in (if any) in the same session is left alone."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def portal_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except LinkNotWorking:
                return _link_expired_page(request)
            except ApiError as error:
                if error.status != 401:
                    raise
                return _link_expired_page(request)

        return portal_handler


def advocate_api(request: Request) -> ApiClient:
    token = request.session.get(LINK_KEY)
    if not token:
        raise LinkNotWorking
    return ApiClient(request.app.state.http, token)


AdvocateApiDep = Annotated[ApiClient, Depends(advocate_api)]
router = APIRouter(prefix="/a", route_class=PortalRoute)


async def _account_page(request: Request, api: ApiClient, *, refusal: dict[str, Any] | None = None,
                        status_code: int = 200) -> Response:
    """The whole page, or for htmx its `account` block (after a redeem or a cancel)."""
    me, ledger, rewards, redemptions, feedback = await asyncio.gather(
        api.me(), api.my_ledger(limit=PAGE_SIZE), api.my_rewards(limit=100),
        api.my_redemptions(limit=PAGE_SIZE), api.my_feedback(limit=PAGE_SIZE))
    return render(request, "portal/account.html",
                  {**NOT_STAFF, "me": me, "ledger": ledger, "rewards": rewards.items,
                   "redemptions": redemptions.items, "feedback": feedback,
                   "refusal": refusal or {}},
                  fragment="account", status_code=status_code)


@router.get("/")
async def account(request: Request, api: AdvocateApiDep):
    return await _account_page(request, api)


@router.get("/ledger")
async def more_ledger(request: Request, api: AdvocateApiDep, cursor: str):
    """The next entries of the ledger: appended in place by htmx, a page of its own without."""
    ledger = await api.my_ledger(cursor=cursor, limit=PAGE_SIZE)
    return render(request, "advocates/ledger.html",
                  {**NOT_STAFF, "ledger": ledger, "more_url": "/a/ledger", "back_url": "/a/",
                   "back": "My points"},
                  fragment="entries")


@router.get("/feedback")
async def more_feedback(request: Request, api: AdvocateApiDep, cursor: str):
    """The next feedback given: appended in place by htmx, a page of its own without."""
    feedback = await api.my_feedback(cursor=cursor, limit=PAGE_SIZE)
    return render(request, "portal/feedback.html", {**NOT_STAFF, "feedback": feedback},
                  fragment="entries")


async def _act(request: Request, api: ApiClient, action: Coroutine[Any, Any, Any],
               refused_key: str, done: str) -> Response:
    """Redeem or cancel; a refusal (not enough points, out of stock…) is shown next to the
    button that asked."""
    try:
        await action
    except ApiError as error:
        if not error.is_about_input:
            raise
        return await _account_page(request, api, refusal={refused_key: error.detail},
                                   status_code=error.status)
    if is_htmx(request):
        return await _account_page(request, api)
    session.flash(request, done)
    return redirect(request, "/a/")


@router.post("/rewards/{reward_id}/redeem")
async def redeem(request: Request, api: AdvocateApiDep, reward_id: int):
    return await _act(request, api, api.redeem(reward_id), f"reward-{reward_id}",
                      "Redeemed. The points are reserved for it.")


@router.post("/redemptions/{redemption_id}/cancel")
async def cancel(request: Request, api: AdvocateApiDep, redemption_id: int):
    return await _act(request, api, api.cancel_my_redemption(redemption_id),
                      f"redemption-{redemption_id}", "Cancelled. The points are back.")


# Last: any other single segment is taken for a link's token.
@router.get("/{token}")
async def open_link(request: Request, token: str):
    request.session[LINK_KEY] = token
    # Off the address bar (and out of the history and of Referer headers) at once.
    return redirect(request, "/a/")
