"""Refusals that the advocates' and the redemptions' services share. They live apart from either
service so that both can raise them without importing each other (removing an advocate cancels
their redemptions, and a redemption checks its advocate)."""

from services.api.errors import ProblemError
from shared.ledger import InsufficientPointsError


def unknown_reference(field: str, what: str, ident: int) -> ProblemError:
    """A body that names a row which does not exist is invalid input (422), not a missing path."""
    detail = f"{field}: {what} {ident} does not exist"
    return ProblemError(422, detail, type_="validation-error",
                        errors=[{"loc": ["body", field], "msg": detail, "type": "not_found"}])


def insufficient_points(exc: InsufficientPointsError) -> ProblemError:
    return ProblemError(409, f"Advocate {exc.advocate_id}'s balance does not cover "
                             f"{-exc.points} points; nothing was changed.",
                        type_="insufficient-points", advocate_id=exc.advocate_id)
