"""The signed session cookie: who is signed in (their API token and what they may do) and the
per-session CSRF token that every non-GET form must send back."""

import secrets
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Request

from services.api.auth.schemas import WhoAmI
from web.client import ApiClient

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class SignInRequired(Exception):
    """No one is signed in (or their token ended): off to /login, then back to `next_path`."""

    def __init__(self, next_path: str = "/"):
        self.next_path = next_path


class CsrfRefused(Exception):
    """A state-changing request without this session's CSRF token."""


class PermissionDenied(Exception):
    """The signed-in user lacks a permission the page needs."""

    def __init__(self, detail: str):
        self.detail = detail


def csrf_token(request: Request) -> str:
    return request.session.setdefault("csrf", secrets.token_urlsafe(32))


async def verify_csrf(request: Request) -> None:
    """App-wide dependency: a cross-site page can make the browser POST with our cookie but cannot
    read the token, so a request carrying it came from our own pages."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        sent = (await request.form()).get(CSRF_FIELD)
    expected = request.session.get("csrf")
    if not (expected and isinstance(sent, str) and secrets.compare_digest(sent, expected)):
        raise CsrfRefused


def sign_in(request: Request, token: str, who: WhoAmI) -> None:
    # A fresh session (and CSRF token) at sign-in, so nothing planted before it carries over.
    request.session.clear()
    request.session.update(
        token=token,
        user={"name": who.name, "role": who.role, "permissions": who.permissions},
        csrf=secrets.token_urlsafe(32),
    )


def sign_out(request: Request) -> None:
    request.session.clear()


def current_user(request: Request) -> dict[str, Any] | None:
    return request.session.get("user")


def can(request: Request, permission: str) -> bool:
    user = current_user(request)
    return bool(user) and permission in user["permissions"]


def require_permission(request: Request, permission: str) -> None:
    if not can(request, permission):
        raise PermissionDenied(f"This needs the `{permission}` permission.")


def flash(request: Request, message: str) -> None:
    """A one-time notice for the next full page (e.g. "Community created")."""
    request.session["flash"] = message


def local_path(url: str | None) -> str:
    """Only paths on this site are followed after sign-in, never another host (open redirect)."""
    if not url:
        return "/"
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


def return_path(request: Request) -> str:
    if request.method == "GET" and not request.headers.get("HX-Request"):
        return local_path(str(request.url))
    # A fragment or a form post: return to the page that made it, not to the fragment's URL.
    return local_path(request.headers.get("HX-Current-URL") or request.headers.get("Referer"))


def anonymous_api(request: Request) -> ApiClient:
    return ApiClient(request.app.state.http)


def signed_in_api(request: Request) -> ApiClient:
    token = request.session.get("token")
    if not token:
        raise SignInRequired(return_path(request))
    return ApiClient(request.app.state.http, token)


AnonymousApiDep = Annotated[ApiClient, Depends(anonymous_api)]
ApiDep = Annotated[ApiClient, Depends(signed_in_api)]
