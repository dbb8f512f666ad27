"""The create and edit pages of a catalogue entry (a tier, a reward): one form template for both,
the API's refusals shown next to the fields, and back to the list with a notice on success.
`CatalogueForm.add_routes` registers the four routes on a domain's router."""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from web import session
from web.forms import FormSpec, FormState, submit_form
from web.rendering import redirect, render
from web.session import ApiDep


@dataclass(frozen=True)
class CatalogueForm:
    # The entry's name in the API client's methods (get_<entry>, create_<entry>,
    # update_<entry>) and in the template's context.
    entry: str
    # Where the list is ("/tiers"); the form lives at <path>/new and <path>/<id>.
    path: str
    spec: FormSpec
    permission: str
    # What a new form shows before anything is typed.
    defaults: dict[str, str] = field(default_factory=dict)
    # The notice after creating, given the created entry.
    created: Callable[[Any], str] = lambda entry: f"“{entry.name}” created."
    # What the edit form shows for a stored entry, when it differs from the plain values.
    values_of: Callable[[BaseModel], dict[str, str]] | None = None

    @property
    def template(self) -> str:
        return f"{self.path.strip('/')}/form.html"

    def _page(self, request: Request, form: FormState, entry: BaseModel | None = None):
        return render(request, self.template, {"form": form, self.entry: entry},
                      status_code=form.status_code)

    def _values(self, entry: BaseModel) -> dict[str, str]:
        return (self.values_of or self.spec.values_of)(entry)

    def add_routes(self, router: APIRouter) -> None:
        """After the router's own list route: `/new` is registered before `/{id}` here."""

        async def new_form(request: Request, _: ApiDep):
            session.require_permission(request, self.permission)
            return self._page(request, FormState(dict(self.defaults)))

        async def create(request: Request, api: ApiDep):
            entry, form = await submit_form(request, self.spec,
                                            getattr(api, f"create_{self.entry}"))
            if entry is None:
                return self._page(request, form)
            session.flash(request, self.created(entry))
            return redirect(request, self.path)

        async def edit_form(request: Request, api: ApiDep, entry_id: int):
            """Read-only staff see the same page without the save button."""
            entry = await getattr(api, f"get_{self.entry}")(entry_id)
            return self._page(request, FormState(self._values(entry)), entry)

        async def update(request: Request, api: ApiDep, entry_id: int):
            entry, form = await submit_form(
                request, self.spec, partial(getattr(api, f"update_{self.entry}"), entry_id))
            if entry is None:
                return self._page(request, form,
                                  await getattr(api, f"get_{self.entry}")(entry_id))
            session.flash(request, "Changes saved.")
            return redirect(request, self.path)

        router.add_api_route("/new", new_form, methods=["GET"])
        router.add_api_route("/new", create, methods=["POST"])
        router.add_api_route("/{entry_id}", edit_form, methods=["GET"])
        router.add_api_route("/{entry_id}", update, methods=["POST"])
