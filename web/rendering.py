"""Rendering pages and htmx fragments: one template per page, a `{% block %}` per part that
htmx swaps. The same URL answers with the whole page or, for htmx, with just that block (which
is why every response says `Vary: HX-Request`, see `VaryOnHtmx`)."""

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web import session

templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=jinja2.select_autoescape(default=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def is_htmx(request: Request) -> bool:
    # A history restore after a cache miss asks with HX-Request too, but wants the whole page.
    return (request.headers.get("HX-Request") == "true"
            and request.headers.get("HX-History-Restore-Request") != "true")


def _page_context(request: Request) -> dict[str, Any]:
    return {
        "request": request,
        "user": session.current_user(request),
        "csrf_token": session.csrf_token(request),
        "can": lambda permission: session.can(request, permission),
        # Called by the layout only, so a fragment never swallows a notice meant for a page.
        "pop_flash": lambda: request.session.pop("flash", None),
        "page_url": lambda **changes: page_url(request, **changes),
    }


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    fragment: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The page `name`, or only its block `fragment` when htmx asks."""
    template = templates.get_template(name)
    full_context = {**_page_context(request), **(context or {})}
    if fragment and is_htmx(request):
        html = "".join(template.blocks[fragment](template.new_context(full_context)))
    else:
        html = template.render(full_context)
    return HTMLResponse(html, status_code, headers=headers)


def error_page(request: Request, status_code: int, title: str, message: str) -> HTMLResponse:
    # htmx swaps only the page's main area for an error, wherever the request meant to swap.
    return render(
        request, "error.html", {"status": status_code, "title": title, "message": message},
        fragment="content", status_code=status_code,
        headers={"HX-Retarget": "#content", "HX-Reswap": "innerHTML"},
    )


def redirect(request: Request, url: str) -> HTMLResponse | RedirectResponse:
    """After a form post, or to /login. htmx follows a 303 inside its request and would swap the
    next page into a fragment, so it is told to navigate instead."""
    if is_htmx(request):
        return HTMLResponse("", headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def page_url(request: Request, **changes: str | None) -> str:
    """This URL with some query parameters replaced (blank ones dropped): pagination links."""
    params = {**request.query_params, **changes}
    query = urlencode({name: value for name, value in params.items() if value})
    return f"{request.url.path}?{query}" if query else request.url.path


class VaryOnHtmx:
    """Adds `Vary: HX-Request` to every response, so no cache hands a fragment to a full page
    load of the same URL, or the reverse (redirects differ too: 303 versus HX-Redirect)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_vary(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).add_vary_header("HX-Request")
            await send(message)

        await self.app(scope, receive, send_with_vary if scope["type"] == "http" else send)
