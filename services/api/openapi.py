"""OpenAPI polish: clean operation ids, and every operation states who may call it."""

from fastapi import APIRouter
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from services.api.auth.principal import RequirePermission, authenticate


def _requirements(dependant: Dependant) -> tuple[set[str], bool]:
    permissions: set[str] = set()
    authenticated = False
    for dep in dependant.dependencies:
        if isinstance(dep.call, RequirePermission):
            permissions.add(dep.call.permission)
        if dep.call is authenticate:
            authenticated = True
        nested, nested_auth = _requirements(dep)
        permissions |= nested
        authenticated = authenticated or nested_auth
    return permissions, authenticated


def document_permissions(router: APIRouter) -> None:
    """Call on each router before it is included. Operation ids become `tag-function_name`."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            continue
        route.operation_id = f"{route.tags[0]}-{route.name}" if route.tags else route.name
        permissions, authenticated = _requirements(route.dependant)
        if permissions:
            who = "Requires permission " + ", ".join(f"`{p}`" for p in sorted(permissions))
        elif authenticated:
            who = "Requires any valid token."
        else:
            who = "Public: no token needed."
        route.openapi_extra = {**(route.openapi_extra or {}),
                               "x-required-permissions": sorted(permissions)}
        route.description = f"{route.description}\n\n**Who may call:** {who}".strip()
