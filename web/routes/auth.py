"""Signing in and out. The API token lives only in the signed, httponly session cookie."""

from contextlib import suppress

from fastapi import APIRouter, Request

from web import session
from web.client import ApiError, ApiUnavailable
from web.forms import FormSpec, FormState
from web.rendering import redirect, render
from web.session import AnonymousApiDep, ApiDep

router = APIRouter()
LOGIN_FORM = FormSpec(fields=("email", "password"))


def _login_page(request: Request, form: FormState, next_path: str, status_code: int = 200):
    return render(request, "login.html", {"form": form, "next": next_path},
                  status_code=status_code)


@router.get("/")
async def home(_: ApiDep, request: Request):
    return redirect(request, "/communities")


@router.get("/login")
async def login_page(request: Request, next: str | None = None):
    if session.current_user(request):
        return redirect(request, session.local_path(next))
    return _login_page(request, FormState(), session.local_path(next))


@router.post("/login")
async def login(request: Request, api: AnonymousApiDep):
    form = await request.form()
    values = LOGIN_FORM.read(form)
    next_path = session.local_path(str(form.get("next", "")))
    try:
        token = await api.login(values["email"], values["password"])
        who = await api.as_user(token.access_token).whoami()
    except ApiError as error:
        kept = {"email": values["email"]}  # never echo a password back
        if error.status == 401:
            # Wrong credentials are this form's business here, not a lapsed session.
            state = FormState(kept, {"": error.detail}, LOGIN_FORM.fields)
        else:
            state = FormState.refused(LOGIN_FORM, kept, error)
        return _login_page(request, state, next_path, status_code=error.status)
    session.sign_in(request, token.access_token, who)
    return redirect(request, next_path)


@router.post("/logout")
async def logout(request: Request):
    if request.session.get("token"):
        # Signing out here must work even when the API is down or the token already ended.
        with suppress(ApiError, ApiUnavailable):
            await session.signed_in_api(request).logout()
    session.sign_out(request)
    session.flash(request, "You are signed out.")
    return redirect(request, "/login")
