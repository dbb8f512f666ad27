"""HTML forms in front of API bodies. The API is the one validator: the web sends what was typed
(blank optional fields as null, comma-separated lists as lists) and shows the API's refusal
next to the fields it names, with the user's input kept."""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel
from starlette.datastructures import UploadFile

from web.client import ApiError

Result = TypeVar("Result")


@dataclass(frozen=True)
class FormSpec:
    fields: tuple[str, ...]
    # Blank means "none" for these; other blank fields go as "" so the API names what is missing.
    optional: frozenset[str] = frozenset()
    lists: frozenset[str] = frozenset()

    def read(self, form: Mapping[str, Any]) -> dict[str, str]:
        """The submitted values of this form's fields, trimmed (files and unknown names ignored)."""
        return {
            name: value.strip()
            for name in self.fields
            if isinstance(value := form.get(name, ""), str)
        }

    def body(self, values: Mapping[str, str]) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for name in self.fields:
            value = values.get(name, "")
            if name in self.lists:
                body[name] = [item.strip() for item in value.split(",") if item.strip()]
            elif name in self.optional and not value:
                body[name] = None
            else:
                body[name] = value
        return body

    def values_of(self, model: BaseModel) -> dict[str, str]:
        """What an edit form shows for a stored object."""
        values = {}
        for name in self.fields:
            value = getattr(model, name, None)
            if isinstance(value, list):
                values[name] = ", ".join(map(str, value))
            else:
                values[name] = "" if value is None else str(value)
        return values


@dataclass
class FormState:
    """What a form template needs: the values to show and the errors per field."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    fields: tuple[str, ...] = ()
    status_code: int = 200

    @classmethod
    def refused(cls, spec: FormSpec, values: dict[str, str], error: ApiError) -> "FormState":
        """The API's refusal of `values`. Anything but an input error (403, 404, 401) is not the
        form's business: it propagates to the error pages."""
        if not error.is_about_input:
            raise error
        errors = dict(error.field_errors) or {"": error.detail}
        return cls(values, errors, spec.fields, error.status)

    @property
    def general_errors(self) -> list[str]:
        """Errors that no field of this form shows, so they go in the banner above it."""
        return [message for name, message in self.errors.items() if name not in self.fields]


async def submit_form(
    request: Request, spec: FormSpec, send: Callable[[dict[str, Any]], Awaitable[Result]]
) -> tuple[Result | None, FormState]:
    """Sends the posted form to the API: its result, or None and the form with the errors."""
    values = spec.read(await request.form())
    try:
        return await send(spec.body(values)), FormState(values, fields=spec.fields)
    except ApiError as error:
        return None, FormState.refused(spec, values, error)


async def uploaded_file(request: Request, name: str = "file") -> tuple[str, bytes]:
    """The posted file's name and content. No file chosen reads as an empty one: the API still
    judges the upload and says what it needs, like any other refusal."""
    upload = (await request.form()).get(name)
    if isinstance(upload, UploadFile):
        return upload.filename or "", await upload.read()
    return "", b""


# A page a person can scan; the API's default (50) suits programs better.
PAGE_SIZE = 25


async def filter_list(
    request: Request, spec: FormSpec, fetch: Callable[..., Awaitable[Result]]
) -> tuple[Result | None, FormState]:
    """One page of a list, filtered by the GET form in the query string. A filter the API refuses
    (say, an unknown country) is shown as a form error instead of failing the whole page."""
    filters = spec.read(request.query_params)
    try:
        page = await fetch(**filters, cursor=request.query_params.get("cursor"), limit=PAGE_SIZE)
    except ApiError as error:
        return None, FormState.refused(spec, filters, error)
    return page, FormState(filters, fields=spec.fields)
