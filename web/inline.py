"""Actions taken in place on a list (answer, move, resolve): htmx gets the acted-on part back,
with the API's refusal beside it; without JavaScript the browser goes back to the page it came
from, with the outcome as the page's notice."""

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from web import session
from web.forms import FormState
from web.rendering import redirect


def back_with_notice(request: Request, form: FormState, done: str,
                     fallback: str) -> HTMLResponse | RedirectResponse:
    session.flash(request, " ".join(form.errors.values()) if form.errors else done)
    return redirect(request, session.local_path(request.headers.get("Referer") or fallback))
